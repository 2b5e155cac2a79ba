import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config/load-config.ts';
import { makeCreateRuntime } from '../../../shared/runtime/create-runtime.ts';
import { idempotentInstanceName } from '../../../shared/instances/naming.ts';
import { startFunctionProcess } from '../../harness/function-process.ts';
import { call, diskNames, serveInProcess, startTestStack, type FunctionUrls, type TestStack } from '../stack.ts';
import { eventually } from '../support.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/templates/${name}`, import.meta.url));

let stack: TestStack;
const extra: (() => Promise<void>)[] = [];
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'failures' });
});
afterAll(async () => {
  for (const stop of extra) await stop();
  await stack?.stop();
});
afterEach(() => stack.emulator.clearFaults());

/** Serves the same stack with other settings (another template, say). */
async function variant(overrides: Record<string, string>): Promise<FunctionUrls> {
  const runtime = makeCreateRuntime(loadConfig({ ...stack.env, ...overrides }));
  const served = await serveInProcess(runtime);
  extra.push(async () => {
    await served.stop();
    await runtime.disks().close();
    expect(served.violations, 'answers that /openapi.json does not describe').toEqual([]);
  });
  return served.urls;
}

/** Nothing of any instance is left: no Deployment, no disk in any zone, no slot. */
async function expectNothingLeft(): Promise<void> {
  const apps = stack.kubeConfig.makeApiClient(AppsV1Api);
  const coordination = stack.kubeConfig.makeApiClient(CoordinationV1Api);
  expect((await apps.listNamespacedDeployment({ namespace: stack.namespace })).items.map((d) => d.metadata?.name)).toEqual([]);
  expect((await coordination.listNamespacedLease({ namespace: stack.namespace })).items.map((l) => l.metadata?.name)).toEqual([]);
  expect(diskNames(stack.emulator)).toEqual([]);
}

const token = (): string => stack.tokenFor('fay@example.com');
/** The stack's own disks client, to make a disk as somebody else would. */
const makeDisksApiFor = (s: TestStack) => s.runtime.disks();

describe('a failed create leaves nothing behind', () => {
  it('when the disk API is unavailable', async () => {
    stack.emulator.injectFault({ method: 'disks.insert', status: 503, count: 5 });
    const response = await call(stack.urls.create, { token: token(), body: {} });
    expect(response.status).toBe(503);
    expect(response.body.error).toMatchObject({ code: 503, status: 'UNAVAILABLE' });
    await expectNothingLeft();
  });

  it("when the disk insert's answer is lost after the disk was made", async () => {
    stack.emulator.injectFault({ method: 'disks.insert', kind: 'drop', count: 5 });
    const response = await call(stack.urls.create, { token: token(), body: {} });
    expect(response.status).toBe(503);
    expect(stack.emulator.calls['disks.insert']).toBeGreaterThan(0);
    await expectNothingLeft(); // undone as if it had succeeded, not left for the sweep
  });

  it("when the disk of a keyed create's name is somebody else's, which is left alone and answered as final", async () => {
    const key = 'failures-foreign-disk';
    const name = idempotentInstanceName('syncbased', 'fay@example.com', key);
    const foreign = makeDisksApiFor(stack);
    await foreign.createDisk({ name, sizeGb: 1, type: 'pd-standard', labels: { team: 'someone-else' } });
    const response = await fetch(stack.urls.create, {
      method: 'POST',
      headers: { authorization: `Bearer ${token()}`, 'idempotency-key': key },
      body: '{}',
    });
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: unknown }).error).toEqual({
      code: 409,
      status: 'ALREADY_EXISTS',
      message: `a disk named ${name} already exists and is not this allocator's; it was left alone`,
    });
    expect(diskNames(stack.emulator)).toEqual([name]);
    await foreign.deleteDisk(name);
    await expectNothingLeft();
  });

  it('when the disk operation fails for quota', async () => {
    stack.emulator.injectFault({ method: 'disks.insert', kind: 'operation', reason: 'QUOTA_EXCEEDED' });
    const response = await call(stack.urls.create, { token: token(), body: {} });
    expect(response.status).toBe(429);
    expect(JSON.stringify(response.body)).toMatch(/QUOTA_EXCEEDED/);
    await expectNothingLeft();
  });

  it('when the API server rejects the Deployment after the disk was made', async () => {
    const urls = await variant({ ALLOCATOR_TEMPLATE: fixture('rejected-by-apiserver.json.hbs') });
    const response = await call(urls.create, { token: token(), body: {} });
    expect(response.status).toBe(500);
    expect(response.body.error).toMatchObject({ code: 500, status: 'INTERNAL' });
    expect((response.body.error as { message: string }).message).toMatch(/Not_A_Valid_Container_Name/);
    expect(stack.emulator.calls['disks.insert']).toBeGreaterThan(0);
    await expectNothingLeft();
  });

  it('when the readiness wait times out, even if the disk API then fails once during the undo', async () => {
    const urls = await variant({ ALLOCATOR_TEMPLATE: fixture('never-ready.json.hbs') });
    stack.emulator.injectFault({ method: 'disks.delete', status: 503 });
    const response = await call(urls.create, { token: token(), body: { waitTimeoutSeconds: 2 } });
    expect(response.status).toBe(504);
    expect(response.body.error).toMatchObject({ code: 504, status: 'DEADLINE_EXCEEDED' });
    expect(stack.emulator.calls['disks.delete']).toBeGreaterThanOrEqual(2);
    await expectNothingLeft();
  });
});

describe('the HTTP contract', () => {
  it.each([
    ['no token', stack_urls('create'), { body: {} }, 401, 'UNAUTHENTICATED'],
    ['a token that is not a JWT', stack_urls('create'), { token: 'abc', body: {} }, 401, 'UNAUTHENTICATED'],
    ['GET on create', stack_urls('create'), { method: 'GET', tokenOf: 'fay@example.com' }, 405, 'METHOD_NOT_ALLOWED'],
    [
      'PUT on destroy',
      stack_urls('destroy'),
      { method: 'PUT', tokenOf: 'fay@example.com', body: { name: 'x' } },
      405,
      'METHOD_NOT_ALLOWED',
    ],
    ['POST on list', stack_urls('list'), { method: 'POST', tokenOf: 'fay@example.com' }, 405, 'METHOD_NOT_ALLOWED'],
    ['malformed JSON', stack_urls('create'), { rawBody: '{"wait": tru', tokenOf: 'fay@example.com' }, 400, 'INVALID_ARGUMENT'],
    ['a JSON array', stack_urls('create'), { rawBody: '[1]', tokenOf: 'fay@example.com' }, 400, 'INVALID_ARGUMENT'],
    ['an unknown field', stack_urls('create'), { body: { replicas: 5 }, tokenOf: 'fay@example.com' }, 400, 'INVALID_ARGUMENT'],
    ['a wrong type', stack_urls('create'), { body: { wait: 'yes' }, tokenOf: 'fay@example.com' }, 400, 'INVALID_ARGUMENT'],
    [
      'a body over 64 KiB',
      stack_urls('create'),
      { body: { pad: 'x'.repeat(70_000) }, tokenOf: 'fay@example.com' },
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    ['destroy without a name', stack_urls('destroy'), { body: {}, tokenOf: 'fay@example.com' }, 400, 'INVALID_ARGUMENT'],
    [
      'destroy of a name this allocator cannot have made',
      stack_urls('destroy'),
      { body: { name: 'kube-dns' }, tokenOf: 'fay@example.com' },
      400,
      'INVALID_ARGUMENT',
    ],
    [
      'an unknown list parameter',
      stack_urls('list'),
      { method: 'GET', query: '?owner=bob', tokenOf: 'fay@example.com' },
      400,
      'INVALID_ARGUMENT',
    ],
  ] as const)('answers %s with a JSON %i', async (_label, urlOf, init, status, statusName) => {
    const { tokenOf, ...rest } = init as typeof init & { tokenOf?: string };
    const response = await call(urlOf(), { ...rest, ...(tokenOf ? { token: stack.tokenFor(tokenOf) } : {}) });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(response.body).toEqual({ error: { code: status, status: statusName, message: expect.any(String) } });
    expect(JSON.stringify(response.body)).not.toMatch(/\n\s+at /); // no stack trace
    if (status === 401) expect(response.headers.get('www-authenticate')).toBe('Bearer');
    await expectNothingLeft();
  });

  it('answers a caller outside ALLOCATOR_ALLOWED_CALLERS with 403, before touching anything', async () => {
    const urls = await variant({ ALLOCATOR_ALLOWED_CALLERS: '*@example.com' });
    const outsider = await call(urls.create, { token: stack.tokenFor('eve@elsewhere.org'), body: {} });
    expect(outsider.status).toBe(403);
    expect(outsider.body.error).toMatchObject({
      status: 'PERMISSION_DENIED',
      message: expect.stringMatching(/eve@elsewhere.org may not use this allocator/),
    });
    // *@example.com is the Workspace domain: the token's hd claim, not the email alone.
    const workspace = stack.issuer.issueIdToken({
      email: 'ida@example.com',
      audience: 'https://allocator.test',
      hostedDomain: 'example.com',
    });
    expect((await call(urls.list, { token: workspace, method: 'GET' })).status).toBe(200);
    const consumer = await call(urls.list, { token: stack.tokenFor('ida@example.com'), method: 'GET' });
    expect(consumer.status).toBe(403);
    await expectNothingLeft();
  });

  it('answers a 2 MB body with its 413 every time, not with a reset connection', async () => {
    const body = JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) });
    for (let run = 0; run < 8; run += 1) {
      const response = await fetch(stack.urls.create, {
        method: 'POST',
        headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' },
        body,
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({
        error: { code: 413, status: 'PAYLOAD_TOO_LARGE', message: 'request body is larger than 65536 bytes' },
      });
    }
    await expectNothingLeft();
  });

  it('logs what the framework refuses before our handler runs', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'allocator-failures-'));
    const logFile = join(logDir, 'create.log');
    const create = await startFunctionProcess({ name: 'create', env: stack.env, logFile });
    try {
      expect((await call(create.url, { token: token(), rawBody: '{"wait": tru' })).status).toBe(400);
      expect((await call(create.url, { token: token(), body: { pad: 'x'.repeat(70_000) } })).status).toBe(413);
      const lines = await eventually(
        async () => {
          const logged = readFileSync(logFile, 'utf8')
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map(
              (line) =>
                JSON.parse(line) as {
                  severity: string;
                  httpRequest: { requestMethod: string; status: number };
                  message: string;
                  error?: string;
                },
            )
            .filter((line) => line.httpRequest.requestMethod === 'POST'); // not the harness's readiness probes
          return logged.length >= 2 ? logged : undefined;
        },
        10_000,
        'two request log lines',
      );
      expect(lines.map((line) => [line.severity, line.httpRequest.status, line.message])).toEqual([
        ['WARNING', 400, 'create 400 (refused by the framework)'],
        ['WARNING', 413, 'create 413 (refused by the framework)'],
      ]);
      expect(lines[0]?.error).toMatch(/BadRequestError: request body is not valid JSON <- SyntaxError/);
    } finally {
      await create.stop();
      rmSync(logDir, { recursive: true, force: true });
    }
  });

  it('answers an unverified email with 403', async () => {
    const unverified = stack.issuer.issueIdToken({ email: 'gus@example.com', audience: 'https://allocator.test', emailVerified: false });
    expect((await call(stack.urls.create, { token: unverified, body: {} })).status).toBe(403);
  });
});

function stack_urls(name: keyof FunctionUrls): () => string {
  return () => stack.urls[name];
}
