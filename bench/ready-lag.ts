// The lag from a pod's Ready condition to the CLI's wait printing "ready":
// the wait as it is now (the list function's watch) against the 500 ms
// polling of list it replaced, alternating in the same rounds. A pod's
// Ready is timed when this process's own watch of Pods sees it, which is as
// soon as the API server has it. `node bench/ready-lag.ts` runs it alone.
import { Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { AllocatorClient, type Instance } from '../client/allocator-client.ts';
import { followUntilReady } from '../cli/wait-ready.ts';
import { LABELS } from '../shared/instances/metadata.ts';
import { startGateway } from '../test/harness/gateway.ts';
import type { FunctionUrls } from '../test/harness/serve-in-process.ts';
import { fmt, percentile, ratio } from './stats.ts';

/** The wait before the watch: list every 500 ms until the instance is ready. */
async function followByPolling(client: AllocatorClient, name: string, onReady: () => void): Promise<void> {
  for (;;) {
    const instance: Instance | undefined = (await client.list()).find((candidate) => candidate.name === name);
    if (instance?.state === 'ready') return onReady();
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function measureReadyLag(options: {
  kubeConfig: KubeConfig;
  namespace: string;
  urls: FunctionUrls;
  token: string;
  rounds: number;
  report: (what: string, value: string, baseline: string, vs: string) => void;
}): Promise<{ watch: number[]; polling: number[] }> {
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
  const lags = { watch: [] as number[], polling: [] as number[] };
  try {
    for (let round = 0; round < options.rounds * 2; round += 1) {
      const how = round % 2 === 0 ? 'watch' : 'polling';
      const { name } = await client.create({ wait: false });
      let printedAt = 0;
      const printed = (): void => void (printedAt = performance.now());
      if (how === 'watch')
        await followUntilReady(client, name, { timeoutSeconds: 60, progress: { update: () => undefined, done: printed } });
      else await followByPolling(client, name, printed);
      const podReady = readyAt.get(name);
      if (podReady === undefined) throw new Error(`no Ready pod of ${name} seen`);
      lags[how].push(printedAt - podReady);
      await client.destroy(name);
    }
  } finally {
    pods.abort();
    await gateway.stop();
  }
  for (const p of [50, 90]) {
    const watch = percentile(lags.watch, p);
    const polling = percentile(lags.polling, p);
    options.report(
      `ready seen: pod Ready to the CLI's "ready", p${p} (vs 500 ms polling)`,
      fmt(watch),
      fmt(polling),
      ratio(watch, polling),
    );
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
  printTable('Ready lag (baseline: the 500 ms polling of list the CLI did before the watch)', rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
