// The lag from a pod's Ready condition to the CLI printing "ready": the
// CLI's wait as it is now (the create's own progress stream, its "ready"
// line), the list function's watch (what the dashboard follows), and the
// 500 ms polling of list the CLI did first, alternating in the same rounds.
// A pod's Ready is timed when this process's own watch of Pods sees it,
// which is as soon as the API server has it. `node bench/ready-lag.ts` runs
// it alone.
import { Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { AllocatorClient, type Instance } from '../client/allocator-client.ts';
import { LABELS } from '../shared/instances/metadata.ts';
import { startGateway } from '../test/harness/gateway.ts';
import type { FunctionUrls } from '../test/harness/serve-in-process.ts';
import { fmt, percentile, ratio } from './stats.ts';

const WAYS = ['stream', 'watch', 'polling'] as const;
type Way = (typeof WAYS)[number];

/** The create streams its progress and waits on the allocator: "ready" is printed when its ready line comes. */
async function createFollowingProgress(client: AllocatorClient, onReady: () => void): Promise<string> {
  const instance = await client.create({ onProgress: (line) => line.step === 'ready' && onReady() });
  return instance.name;
}

/** A create that does not wait, then the watch until the instance is ready. */
async function createFollowingWatch(client: AllocatorClient, onReady: () => void): Promise<string> {
  const { name } = await client.create({ wait: false });
  const stop = new AbortController();
  for await (const event of client.watch({ signal: stop.signal })) {
    if (event.type === 'instance' && event.instance.name === name && event.instance.state === 'ready') {
      onReady();
      stop.abort();
    }
  }
  return name;
}

/** A create that does not wait, then a list every 500 ms until the instance is ready. */
async function createFollowingPolls(client: AllocatorClient, onReady: () => void): Promise<string> {
  const { name } = await client.create({ wait: false });
  for (;;) {
    const instance: Instance | undefined = (await client.list()).find((candidate) => candidate.name === name);
    if (instance?.state === 'ready') {
      onReady();
      return name;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const FOLLOW: Record<Way, (client: AllocatorClient, onReady: () => void) => Promise<string>> = {
  stream: createFollowingProgress,
  watch: createFollowingWatch,
  polling: createFollowingPolls,
};

export async function measureReadyLag(options: {
  kubeConfig: KubeConfig;
  namespace: string;
  urls: FunctionUrls;
  token: string;
  rounds: number;
  report: (what: string, value: string, baseline: string, vs: string) => void;
}): Promise<Record<Way, number[]>> {
  const gateway = await startGateway();
  for (const fn of ['create', 'destroy', 'list'] as const) gateway.route(`/bench-${fn}`, options.urls[fn]);
  const client = new AllocatorClient({ allocator: gateway.allocatorFor('bench'), auth: options.token });
  const readyAt = new Map<string, number>();
  const pods = await new Watch(options.kubeConfig).watch(
    `/api/v1/namespaces/${options.namespace}/pods`,
    { labelSelector: LABELS.instance },
    (_type: string, pod: V1Pod) => {
      const name = pod.metadata?.labels?.[LABELS.instance];
      const ready = pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True');
      if (name && ready && !readyAt.has(name)) readyAt.set(name, performance.now());
    },
    () => undefined,
  );
  const lags: Record<Way, number[]> = { stream: [], watch: [], polling: [] };
  try {
    for (let round = 0; round < options.rounds * WAYS.length; round += 1) {
      const how = WAYS[round % WAYS.length] as Way;
      let printedAt = 0;
      const name = await FOLLOW[how](client, () => void (printedAt = performance.now()));
      const podReady = readyAt.get(name);
      if (podReady === undefined || printedAt === 0) throw new Error(`no Ready pod of ${name} seen, or no "ready" printed`);
      lags[how].push(printedAt - podReady);
      await client.destroy(name);
    }
  } finally {
    pods.abort();
    await gateway.stop();
  }
  for (const p of [50, 90]) {
    const polling = percentile(lags.polling, p);
    for (const [how, what] of [
      ['stream', "the CLI's wait (its create's progress stream)"],
      ['watch', "the list function's watch (the dashboard's)"],
    ] as const) {
      const lag = percentile(lags[how], p);
      options.report(`ready seen: pod Ready to ${what}, p${p} (vs 500 ms polling)`, fmt(lag), fmt(polling), ratio(lag, polling));
    }
  }
  return lags;
}

/** Alone: a bench stack, the rounds (BENCH_ROUNDS, default 20 of each), and the two rows. */
async function main(): Promise<void> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { BENCH_NAMESPACE, startBenchStack } = await import('./stack.ts');
  const { printTable } = await import('./stats.ts');
  const stack = await startBenchStack();
  const rows: string[][] = [];
  try {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(stack.controlPlane.kubeconfigPath);
    await measureReadyLag({
      kubeConfig,
      namespace: BENCH_NAMESPACE,
      urls: stack.urls,
      token: stack.issuer.issueIdToken({ email: 'bench@example.com', audience: stack.env.ALLOCATOR_AUDIENCES! }),
      rounds: Number(process.env.BENCH_ROUNDS ?? 20),
      report: (...row) => void rows.push(row),
    });
  } finally {
    await stack.stop();
  }
  printTable('Ready lag (baseline: the 500 ms polling of list the CLI did first)', rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
