import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllocatorClient } from '../../../client/index.ts';
import { makeListHandler } from '../../../shared/handlers/list-handler.ts';
import { LABELS } from '../../../shared/instances/metadata.ts';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { closeServer, listenOnLoopback } from '../../harness/http.ts';
import { attachPodLog, criLogLine, writePodLog } from '../../harness/pod-logs.ts';
import { eventually } from '../support.ts';
import { call, startTestStack, type TestStack } from '../stack.ts';

let stack: TestStack;
let gateway: Gateway;
let dir: string;
/** A list function whose follows end after 1.5 s, so that a test sees several resumes. */
let shortFollow: { url: string; stop: () => Promise<void> };
const shortLogs: string[] = [];
const OWNER = 'lou@example.com';

/** The short-follow list function's requests that resumed a follow, logged as each ended. */
const resumes = (): string[] =>
  shortLogs.filter((line) =>
    /sinceTime=/.test(String((JSON.parse(line) as { httpRequest: { requestUrl: string } }).httpRequest.requestUrl)),
  );

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'logs' });
  dir = mkdtempSync(join(tmpdir(), 'allocator-logs-'));
  const handler = makeListHandler({ runtime: { ...stack.runtime, followLimitMs: 1_500 }, log: (line) => void shortLogs.push(line) });
  http('list-short-follow', handler);
  const server = getTestServer('list-short-follow');
  shortFollow = { url: await listenOnLoopback(server), stop: () => closeServer(server) };
  gateway = await startGateway();
  gateway.route('/syncbase-list', stack.urls.list);
  gateway.route('/short-list', shortFollow.url);
});
afterAll(async () => {
  await gateway?.stop();
  await shortFollow?.stop();
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A ready instance of `owner` whose pod logs `file` (a CRI log kwok follows); its name. */
async function instanceLogging(owner: string, file: string, lines: readonly string[]): Promise<string> {
  const created = await call<{ name: string }>(stack.urls.create, { token: stack.tokenFor(owner), body: {} });
  expect(created.status).toBe(201);
  const { name } = created.body;
  const core = stack.kubeConfig.makeApiClient(CoreV1Api);
  const pod = await eventually(async () => {
    const pods = await core.listNamespacedPod({ namespace: stack.namespace, labelSelector: `${LABELS.instance}=${name}` });
    return pods.items[0]?.metadata?.name;
  });
  writePodLog(file, lines, { fresh: true });
  await attachPodLog(stack.kubeConfig, { namespace: stack.namespace, pod, file });
  // kwok learns of the Logs object by its watch.
  await eventually(async () => (await readAll(name, owner)).includes(lines[0]!.split(' stdout F ')[1]!), 10_000, 'kwok to serve the log');
  return name;
}

async function readAll(name: string, who: string, query = ''): Promise<string> {
  const response = await fetch(`${stack.urls.list}/logs?name=${name}${query}`, {
    headers: { authorization: `Bearer ${stack.tokenFor(who)}` },
  });
  return await response.text();
}

const at = (second: number, text: string, nanos = 0): string => criLogLine(new Date(Date.UTC(2026, 0, 2, 15, 4, second)), text, nanos);

describe('logs, read through the API server from kwok', () => {
  let name: string;
  beforeAll(async () => {
    name = await instanceLogging(OWNER, join(dir, 'first.log'), [at(5, 'listening on :8101'), at(6, 'ready', 5), at(7, 'served one')]);
  });

  it("streams the pod's lines as text, each after its time, to the owner", async () => {
    const response = await fetch(`${stack.urls.list}/logs?name=${name}`, { headers: { authorization: `Bearer ${stack.tokenFor(OWNER)}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const lines = (await response.text()).trimEnd().split('\n');
    expect(lines.map((line) => line.replace(/^\S+ /, ''))).toEqual(['listening on :8101', 'ready', 'served one']);
    expect(lines[1]).toMatch(/^2026-01-02T15:04:06\.0000*5Z ready$/);
    expect(await readAll(name, OWNER, '&tailLines=1')).toMatch(/ served one\n$/);
    expect((await readAll(name, OWNER, '&tailLines=1')).split('\n')).toHaveLength(2);
  });

  it("answers a stranger the 404 of an instance that does not exist; the CLI's own words for bad input are 400s", async () => {
    const stranger = await call(`${stack.urls.list}/logs`, {
      method: 'GET',
      token: stack.tokenFor('eve@example.com'),
      query: `?name=${name}`,
    });
    expect(stranger.status).toBe(404);
    expect(stranger.body).toEqual({ error: { code: 404, status: 'NOT_FOUND', message: `instance ${name} not found` } });
    const since = await call(`${stack.urls.list}/logs`, { method: 'GET', token: stack.tokenFor(OWNER), query: `?name=${name}&since=5x` });
    expect(since.status).toBe(400);
    expect(since.body).toEqual({
      error: { code: 400, status: 'INVALID_ARGUMENT', message: '"since" must be a duration such as 30s, 5m, 2h or 1h30m; got "5x"' },
    });
    const container = await call(`${stack.urls.list}/logs`, {
      method: 'GET',
      token: stack.tokenFor(OWNER),
      query: `?name=${name}&container=db`,
    });
    expect(container.status).toBe(400);
    expect(container.body).toMatchObject({
      error: { message: `instance ${name} has no container "db"; its pod's containers are syncbased` },
    });
  });

  it('lets a collaborator read', async () => {
    expect(
      (await call(`${stack.urls.create}/share`, { token: stack.tokenFor(OWNER), body: { name, emails: ['bo@example.com'] } })).status,
    ).toBe(200);
    // Sharing renders the template again: a new pod, with kwok's default log until given its own. Until the
    // scheduler places it, its log answers 400; a refusal of the collaborator (403, 404) fails at once.
    const response = await eventually(
      async () => {
        const answer = await fetch(`${stack.urls.list}/logs?name=${name}`, {
          headers: { authorization: `Bearer ${stack.tokenFor('bo@example.com')}` },
        });
        return answer.status === 400 ? void (await answer.body?.cancel()) : answer;
      },
      30_000,
      'the new pod to be placed',
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^\S+ /);
  });
});

describe('a followed log, across the list function ending its streams', () => {
  it('gives every line once, in order, while the pod writes, resuming each time the stream ends', async () => {
    const file = join(dir, 'follow.log');
    const name = await instanceLogging('mo@example.com', file, [criLogLine(new Date(), 'line 0')]);
    const client = new AllocatorClient({ allocator: gateway.allocatorFor('short'), auth: stack.tokenFor('mo@example.com') });
    // The pod writes a line every 10 ms, many to each second so that each resume starts mid-second,
    // until the follow has been resumed twice (however slow the machine), then a last line.
    const written = ['line 0'];
    const writer = (async () => {
      const until = Date.now() + 45_000;
      while (resumes().length < 2 && Date.now() < until) {
        const text = `line ${written.length}`;
        writePodLog(file, [criLogLine(new Date(), text, written.length % 1000)]);
        written.push(text);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      writePodLog(file, [criLogLine(new Date(), 'the end')]);
      written.push('the end');
    })();
    const seen: string[] = [];
    const stop = new AbortController();
    const started = Date.now();
    for await (const line of client.logs(name, { follow: true, signal: stop.signal })) {
      seen.push(line.replace(/^\S+ /, ''));
      if (seen.at(-1) === 'the end') break;
      if (Date.now() - started > 60_000) break;
    }
    stop.abort();
    await writer;
    expect(seen).toEqual(written);
    expect(resumes().length).toBeGreaterThanOrEqual(2);
  });
});

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The CLI's environment: the allocator behind the gateway, a token, nothing else reached. */
function cliEnv(allocator: string, email: string): Record<string, string> {
  return {
    PATH: '/usr/bin:/bin',
    HOME: dir,
    METADATA_SERVER_DETECTION: 'none',
    ALLOCATOR: gateway.allocatorFor(allocator),
    ALLOCATOR_TOKEN: stack.tokenFor(email),
  };
}

async function allocatorCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return await new Promise((resolve) => {
    execFile(process.execPath, ['cli/bin.ts', ...args], { cwd: ROOT, env }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('allocator logs', () => {
  let name: string;
  let file: string;
  beforeAll(async () => {
    file = join(dir, 'cli.log');
    name = await instanceLogging('cleo@example.com', file, [at(5, 'booting'), at(6, 'listening on :8101')]);
  });

  it('prints the lines, with their times if asked, and the last N', async () => {
    const env = cliEnv('syncbase', 'cleo@example.com');
    expect(await allocatorCli(['logs', name], env)).toMatchObject({ code: 0, stdout: 'booting\nlistening on :8101\n' });
    const tail = await allocatorCli(['logs', name, '--tail', '1', '--timestamps'], env);
    expect(tail.stdout).toMatch(/^2026-01-02T15:04:06(\.0+)?Z listening on :8101\n$/);
  });

  it("says what is wrong in the allocator's words: a bad duration, a stranger's instance", async () => {
    const since = await allocatorCli(['logs', name, '--since', 'soon'], cliEnv('syncbase', 'cleo@example.com'));
    expect(since.code).toBe(1);
    expect(since.stderr).toContain('"since" must be a duration such as 30s, 5m, 2h or 1h30m; got "soon"');
    const stranger = await allocatorCli(['logs', name], cliEnv('syncbase', 'eve@example.com'));
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toContain(`instance ${name} not found`);
  });

  it('--follow prints new lines as they come, across the stream ending, until interrupted', async () => {
    const child = spawn(process.execPath, ['cli/bin.ts', 'logs', name, '--follow'], {
      cwd: ROOT,
      env: cliEnv('short', 'cleo@example.com'),
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await eventually(async () => out.includes('listening on :8101'));
    const resumedBefore = resumes().length;
    writePodLog(file, [criLogLine(new Date(), 'after one stream')]);
    await eventually(async () => resumes().length > resumedBefore, 30_000, 'the follow to be resumed');
    writePodLog(file, [criLogLine(new Date(), 'after another')]);
    await eventually(async () => out.includes('after another'));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toBe('booting\nlistening on :8101\nafter one stream\nafter another\n');
  });
});
