import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllocatorClient } from '../../../client/index.ts';
import { LABELS } from '../../../shared/instances/metadata.ts';
import { deployedEnv, startFunctionProcess, type FunctionProcess } from '../../harness/function-process.ts';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { attachPodLog, criLogLine, writePodLog } from '../../harness/pod-logs.ts';
import { eventually } from '../support.ts';
import { call, startTestStack, type TestStack } from '../stack.ts';

let stack: TestStack;
let list: FunctionProcess;
let gateway: Gateway;
let dir: string;
let nodeOptions = '';
const OWNER = 'max@example.com';

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'logs-rss' });
  dir = mkdtempSync(join(tmpdir(), 'allocator-logs-rss-'));
  // The function runs with the V8 setting it is deployed with (infra/function-env/list.yaml), which the harness gives
  // it: without it the figure is mostly V8 putting off its collection of what has been sent. LIST_NODE_OPTIONS
  // replaces it for a measurement ('' measures the function as Node starts it by default).
  nodeOptions = process.env.LIST_NODE_OPTIONS ?? deployedEnv('list').NODE_OPTIONS ?? '';
  list = await startFunctionProcess({
    name: 'list',
    env: { ...stack.env, ...(process.env.LIST_NODE_OPTIONS === undefined ? {} : { NODE_OPTIONS: nodeOptions }) },
    logFile: join(dir, 'list.log'),
  });
  gateway = await startGateway();
  gateway.route('/rss-list', list.url);
});
afterAll(async () => {
  await gateway?.stop();
  await list?.stop();
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The resident set of a process and its descendants, in bytes (Linux): the function may run under a launcher (npm's `node`). */
function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const own = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  const children = readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
  );
  return own + children.reduce((sum, child) => sum + rssOf(child), 0);
}

const MB = 1024 * 1024;
/** How much the pod writes (bench/ or a curious reader may ask for more with LOGS_RSS_MB: the growth does not follow it). */
const SIZE_MB = Number(process.env.LOGS_RSS_MB ?? 51);

describe("the list function's memory while it streams logs", () => {
  // What grows is garbage awaiting V8: each socket read's buffer until the next young-generation collection, which the
  // stream asks for every 512 KB it relays (shared/http/send-stream.ts), and little else, since the stream runs outside
  // the functions-framework's per-request domain (shared/http/outside-domain.ts). A function that buffered the stream
  // would hold what the pod wrote while the reader stopped, 46 MB (docs/benchmarks.md).
  it('grows by under 10 MB while following a pod that writes 50 MB, with the reader stopped until it is all written', async () => {
    const created = await call<{ name: string }>(stack.urls.create, { token: stack.tokenFor(OWNER), body: {} });
    const { name } = created.body;
    const core = stack.kubeConfig.makeApiClient(CoreV1Api);
    const pod = await eventually(
      async () =>
        (await core.listNamespacedPod({ namespace: stack.namespace, labelSelector: `${LABELS.instance}=${name}` })).items[0]?.metadata
          ?.name,
    );
    const file = join(dir, 'pod.log');
    writePodLog(file, [criLogLine(new Date(), 'start')], { fresh: true });
    await attachPodLog(stack.kubeConfig, { namespace: stack.namespace, pod, file });
    const client = new AllocatorClient({ allocator: gateway.allocatorFor('rss'), auth: stack.tokenFor(OWNER) });
    // Warm up: the modules, the connections and the log client are what any request pays once.
    await eventually(async () => {
      for await (const line of client.logs(name)) if (line.endsWith(' start')) return true;
      return undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const baseline = Math.max(...[0, 1, 2, 3, 4].map(() => rssOf(list.process.pid)));
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(list.process.pid))), 20);

    // The pod writes over 50 MB of log (as the API server sends it: time and text), 1 MB at a time, as fast as the disk takes it.
    const text = 'x'.repeat(100);
    const perMb = Math.ceil(MB / (text.length + 50));
    let written = 0;
    const writer = (async () => {
      for (let mb = 0; written < SIZE_MB * MB; mb += 1) {
        const lines = Array.from({ length: perMb }, (_, i) => criLogLine(new Date(), `${mb}.${i} ${text}`));
        writePodLog(file, lines);
        written += lines.reduce((sum, line) => sum + line.length - ' stdout F'.length, 0);
        await new Promise((resolve) => setImmediate(resolve));
      }
      writePodLog(file, [criLogLine(new Date(), 'end')]);
    })();
    let received = 0;
    let paused = false;
    const stop = new AbortController();
    for await (const line of client.logs(name, { follow: true, signal: stop.signal })) {
      received += line.length + 1;
      // The reader stops until the pod has written everything: without backpressure the function would hold the ~46 MB
      // the API server has for it meanwhile.
      if (!paused && received > 5 * MB) {
        paused = true;
        await writer;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      if (line.endsWith(' end')) break;
    }
    stop.abort();
    await writer;
    clearInterval(sampler);
    const growth = peak - baseline;
    console.log(
      `logs --follow of ${(written / MB).toFixed(1)} MB (${(received / MB).toFixed(1)} MB received), NODE_OPTIONS=${JSON.stringify(nodeOptions)}: list function RSS ${(baseline / MB).toFixed(1)} MB -> peak ${(peak / MB).toFixed(1)} MB, growth ${(growth / MB).toFixed(1)} MB`,
    );
    expect(received).toBeGreaterThan((SIZE_MB - 1) * MB);
    expect(growth).toBeLessThan(10 * MB);
  }, 180_000);
});
