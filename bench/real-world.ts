// `npm run bench:real`: create and destroy with the delays a real project
// has (a disk insert takes about 2 s, a delete about 1 s, a labels change
// 0.5 s, a pod about 5 s to become ready), against allocatord's sequence made
// directly (insert, wait, Deployment, wait), with the disk pool warm and
// empty; what a warm pool costs; and the first create on a cold create bundle
// against a warm one. Prints a table; asserts nothing.
// The delays are fixed rather than spread: a spread of a second on 7 s would
// swing the ratios of a few rounds by more than what they measure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coldBundle, installedBundles, type ColdFigures } from './bundles.ts';
import { directCreate, directDestroy } from './direct.ts';
import { createdName, createThrough, destroyThrough, startBenchStack } from './stack.ts';
import { fmt, percentile, printTable, ratio, timeMs } from './stats.ts';
import { emptyPool, fillPool } from './pool.ts';
import { DISK_DEFAULTS } from '../shared/config/service-config.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const COLD_STARTS = Number(process.env.BENCH_COLD_STARTS ?? 3);
const DELAYS = { diskInsertMs: 2_000, diskDeleteMs: 1_000, setLabelsMs: 500, podReadyMs: { min: 5_000, max: 5_000 } };

const rows: string[][] = [];
const report = (what: string, value: number, baseline: number): void =>
  void rows.push([what, fmt(value), fmt(baseline), ratio(value, baseline)]);

async function main(): Promise<void> {
  const stack = await startBenchStack({
    controlPlane: { podReadyDelayMs: DELAYS.podReadyMs },
    emulator: { operationDelayMs: { insert: DELAYS.diskInsertMs, delete: DELAYS.diskDeleteMs, setLabels: DELAYS.setLabelsMs } },
  });
  const { env, runtime, cluster, disks, urls } = stack;
  const workDir = mkdtempSync(join(tmpdir(), 'allocator-bench-real-'));
  try {
    const headers = stack.headersFor('bench@example.com');
    const create = (url: string): Promise<Response> => createThrough(url, headers);
    const destroy = (name: string): Promise<void> => destroyThrough(urls.destroy, headers, name);

    const times = {
      create: { warm: [] as number[], empty: [] as number[] },
      directCreate: [] as number[],
      destroy: [] as number[],
      directDestroy: [] as number[],
    };
    for (let round = 0; round < ROUNDS; round += 1) {
      process.stderr.write(`[bench:real] round ${round + 1} of ${ROUNDS}\n`);
      for (const pool of ['warm', 'empty'] as const) {
        await (pool === 'warm' ? fillPool(runtime) : emptyPool(runtime));
        let name = '';
        times.create[pool].push(await timeMs(async () => void (name = await createdName(await create(urls.create)))));
        times.destroy.push(await timeMs(() => destroy(name)));
      }
      let direct = '';
      times.directCreate.push(
        await timeMs(async () => void (direct = await directCreate(runtime, cluster, disks, stack.ownerFor('bench@example.com')))),
      );
      times.directDestroy.push(await timeMs(() => directDestroy(cluster, disks, direct)));
    }
    for (const pool of ['warm', 'empty'] as const)
      report(
        `create p50, end to end, disk pool ${pool} (vs allocatord's sequence made directly)`,
        percentile(times.create[pool], 50),
        percentile(times.directCreate, 50),
      );
    report('destroy p50, end to end (vs direct calls)', percentile(times.destroy, 50), percentile(times.directDestroy, 50));

    await emptyPool(runtime);

    // The create bundle as deployed: its first create after a cold start, then a warm one, in each process (BENCH_COLD_STARTS=0: not measured).
    if (COLD_STARTS > 0) {
      process.stderr.write('[bench:real] bundling and installing the functions\n');
      const { create: createDir } = await installedBundles(join(workDir, 'bundles'));
      const made: string[] = [];
      const cold: ColdFigures[] = [];
      for (let round = 0; round < COLD_STARTS; round += 1) {
        cold.push(
          await coldBundle({
            dir: createDir,
            target: 'create',
            env: { ...env, ALLOCATOR_TEMPLATE: 'templates/syncbased-deployment.json.hbs' },
            request: async (url) => {
              const answer = await create(url);
              made.push(await createdName(answer));
              return answer;
            },
            logFile: join(workDir, 'create-bundle.log'),
          }),
        );
      }
      const median = (pick: (figures: ColdFigures) => number): number => percentile(cold.map(pick), 50);
      report(
        'create bundle: first create after a cold start (vs a warm one)',
        median((f) => f.firstRequestMs),
        median((f) => f.warmRequestMs),
      );
      report(
        '  the same, counting from process start',
        median((f) => f.readyMs + f.firstRequestMs),
        median((f) => f.warmRequestMs),
      );
      for (const name of made) await destroy(name);
    }
  } finally {
    await stack.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  // A warm pool's cost: its free disks exist all day, whether claimed and replaced or not.
  const poolDiskHours = DISK_DEFAULTS.poolSize * 24;
  console.log(
    `\nA warm pool at the default size (${DISK_DEFAULTS.poolSize} disks of ${DISK_DEFAULTS.sizeGb} GB): ${poolDiskHours} disk-hours a day, ${poolDiskHours * DISK_DEFAULTS.sizeGb} GB-hours (${((poolDiskHours * DISK_DEFAULTS.sizeGb) / 24).toFixed(0)} GB held all day); it saves the disk insert's wait, ${DISK_DEFAULTS.poolSize} creates at a time.`,
  );
  printTable(
    `Real-world latency (${ROUNDS} rounds; disk insert ${DELAYS.diskInsertMs} ms, delete ${DELAYS.diskDeleteMs} ms, setLabels ${DELAYS.setLabelsMs} ms, pod ready ${DELAYS.podReadyMs.min} ms; baselines: the same calls made directly, a warm create)`,
    rows,
  );
}

await main();
