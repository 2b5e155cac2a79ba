// `npm run bench`: Allocator against its own baselines, measured in one run on
// the local control plane (the machine is shared and noisy, so only ratios
// within a run mean much). Prints a table; asserts nothing.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSweep } from '../shared/executors/run-sweep.ts';
import { executionContext, SWEEPER } from '../shared/handlers/execution-context.ts';
import { instanceSelector } from '../shared/instances/metadata.ts';
import { ownerHashOf } from '../shared/instances/naming.ts';
import { http, type HttpFunction } from '@google-cloud/functions-framework';
import { KubeConfig } from '@kubernetes/client-node';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { closeServer, listenOnLoopback } from '../test/harness/http.ts';
import { getFreePort } from '../test/harness/ports.ts';
import { startProcess } from '../test/harness/processes.ts';
import { startFunctionProcess } from '../test/harness/function-process.ts';
import { allItems, type ClusterClient } from '../shared/kube/cluster.ts';
import { allDisks } from '../shared/gce/disks.ts';
import { directCreate as createDirectly, directDestroy as destroyDirectly, renderDirect, idleOther } from './direct.ts';
import { BENCH_NAMESPACE, createdName, createThrough, destroyThrough, startBenchStack } from './stack.ts';
import { bareBundle, coldBundle, installedBundles, type ColdFigures } from './bundles.ts';
import { rssOfChildNode } from './proc.ts';
import { measureComputeOptions } from './compute-options.ts';
import { measureImportCosts } from './import-costs.ts';
import { measureListSharing } from './list-sharing.ts';
import { measureReadyLag } from './ready-lag.ts';
import { fmt, percentile, printTable, ratio, timeMs } from './stats.ts';
import { emptyPool, fillPool } from './pool.ts';
import { poolFilter } from '../shared/plans/disk-pool.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const OTHERS = Number(process.env.BENCH_OTHER_INSTANCES ?? 1000);
const COLD_STARTS = Number(process.env.BENCH_COLD_STARTS ?? 11);
const LIST_GROWN = Number(process.env.BENCH_LIST_GROWN ?? 10_000);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const FRAMEWORK_MAIN = join(dirname(createRequire(import.meta.url).resolve('@google-cloud/functions-framework')), 'main.js');

const rows: string[][] = [];
const report = (what: string, value: string, baseline: string, vs: string): void => void rows.push([what, value, baseline, vs]);

/** The bare function, served in this process as the three functions are. */
/** A functions-framework function in this process, on loopback. */
async function serveInProcessFunction(name: string, handler: HttpFunction): Promise<{ url: string; stop: () => Promise<void> }> {
  http(name, handler);
  const server = getTestServer(name);
  return { url: await listenOnLoopback(server), stop: () => closeServer(server) };
}

async function main(): Promise<void> {
  // 10,000 Deployments take the controller manager 500 s to see to at its default 20 requests a second.
  const stack = await startBenchStack({ controlPlane: { controllerManagerQps: 500 } });
  const { env, runtime, cluster, disks, urls } = stack;
  const workDir = mkdtempSync(join(tmpdir(), 'allocator-bench-'));
  try {
    const headers = stack.headersFor('bench@example.com');

    // Create and destroy: through the functions, with the disk pool warm and empty, vs the same calls made directly.
    const viaCreate = { warm: [] as number[], empty: [] as number[] };
    const viaDestroy: number[] = [];
    const directCreate: number[] = [];
    const directDestroy: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const pool of ['warm', 'empty'] as const) {
        await (pool === 'warm' ? fillPool(runtime) : emptyPool(runtime));
        let name = '';
        viaCreate[pool].push(await timeMs(async () => void (name = await createdName(await createThrough(urls.create, headers)))));
        viaDestroy.push(await timeMs(() => destroyThrough(urls.destroy, headers, name)));
      }
      let directName = '';
      directCreate.push(
        await timeMs(async () => {
          directName = await createDirectly(runtime, cluster, disks, stack.ownerFor('bench@example.com'));
        }),
      );
      directDestroy.push(await timeMs(() => destroyDirectly(cluster, disks, directName)));
    }
    for (const pool of ['warm', 'empty'] as const) {
      for (const p of [50, 95]) {
        report(
          `create p${p} (wait for ready), disk pool ${pool}`,
          fmt(percentile(viaCreate[pool], p)),
          fmt(percentile(directCreate, p)),
          ratio(percentile(viaCreate[pool], p), percentile(directCreate, p)),
        );
      }
    }
    await emptyPool(runtime); // the list and sweep measures below see only instances
    for (const p of [50, 95]) {
      report(
        `destroy p${p}`,
        fmt(percentile(viaDestroy, p)),
        fmt(percentile(directDestroy, p)),
        ratio(percentile(viaDestroy, p), percentile(directDestroy, p)),
      );
    }

    // List: 3 own instances among OTHERS of other owners, vs a raw label-selector list.
    process.stderr.write(`[bench] creating ${OTHERS} other instances and 3 of the caller's\n`);
    const owners = [
      ...Array.from({ length: OTHERS }, (_, i) => `other${i}@example.com`),
      'lister@example.com',
      'lister@example.com',
      'lister@example.com',
    ];
    for (let i = 0; i < owners.length; i += 25) {
      await Promise.all(
        owners
          .slice(i, i + 25)
          .map((owner) => cluster.createDeployment(idleOther(renderDirect(runtime, stack.ownerFor(owner)).deployment))),
      );
    }
    const listerHeaders = stack.headersFor('lister@example.com');
    const selector = instanceSelector('syncbased', ownerHashOf('lister@example.com'));
    // The part of a list's time that is neither Allocator's nor Kubernetes': the HTTP round trip to a framework function that does nothing.
    const bare = await serveInProcessFunction('bench-bare', (_req, res) => void res.status(200).json({ instances: [] }));
    // List's floor: a bare framework function that makes the same label-selected list through client-node and answers it.
    const bareList = await serveInProcessFunction('bench-bare-list', async (_req, res) => {
      res.status(200).json({ instances: (await cluster.listDeployments({ labelSelector: selector })).items });
    });
    // One of the caller's Deployments, read by name: the cheapest consistent read, to show what the API server's own reads do as the namespace grows.
    const ownName = (await cluster.listDeployments({ labelSelector: selector })).items[0]?.metadata?.name ?? '';
    const measureList = async (): Promise<{ via: number[]; floor: number[]; raw: number[]; hop: number[]; get: number[] }> => {
      const via: number[] = [];
      const floor: number[] = [];
      const raw: number[] = [];
      const hop: number[] = [];
      const get: number[] = [];
      for (let round = 0; round < ROUNDS * 2; round += 1) {
        via.push(
          await timeMs(async () => {
            const body = (await (await fetch(urls.list, { headers: listerHeaders })).json()) as { instances: unknown[] };
            if (body.instances.length !== 3) throw new Error(`list gave ${body.instances.length} instances`);
          }),
        );
        floor.push(
          await timeMs(async () => {
            const body = (await (await fetch(bareList.url, { headers: listerHeaders })).json()) as { instances: unknown[] };
            if (body.instances.length !== 3) throw new Error(`the bare list gave ${body.instances.length} instances`);
          }),
        );
        raw.push(await timeMs(() => cluster.listDeployments({ labelSelector: selector })));
        hop.push(await timeMs(async () => (await fetch(bare.url, { headers: listerHeaders })).json()));
        get.push(await timeMs(() => cluster.readDeployment(ownName)));
      }
      return { via, floor, raw, hop, get };
    };
    await untilControllersCaughtUp(cluster);
    const { via: viaList, floor: floorList, raw: rawList, hop, get: rawGet } = await measureList();
    for (const p of [50, 95])
      report(
        `list p${p} (3 of ${OTHERS + 3}) vs a bare function making the same list`,
        fmt(percentile(viaList, p)),
        fmt(percentile(floorList, p)),
        ratio(percentile(viaList, p), percentile(floorList, p)),
      );
    report(
      `  list p50 vs the raw label-selected list`,
      fmt(percentile(viaList, 50)),
      fmt(percentile(rawList, 50)),
      ratio(percentile(viaList, 50), percentile(rawList, 50)),
    );
    report(
      "  of it, a bare function's round trip (vs the raw list)",
      fmt(percentile(hop, 50)),
      fmt(percentile(rawList, 50)),
      ratio(percentile(hop, 50), percentile(rawList, 50)),
    );

    // List with sharing: 3 own and 3 shared with the caller, vs 3 own and none shared.
    const othersToShare = (await cluster.listDeployments({ labelSelector: instanceSelector('syncbased'), limit: 10 })).items
      .filter((deployment) => deployment.metadata?.labels?.['allocator.dev/owner-hash'] !== ownerHashOf('lister@example.com'))
      .map((deployment) => deployment.metadata?.name ?? '')
      .slice(0, 3);
    await measureListSharing({
      runtime,
      cluster,
      listUrl: urls.list,
      headersFor: (email) => stack.headersFor(email),
      ownerFor: (email) => stack.ownerFor(email),
      othersToShare,
      rounds: ROUNDS,
      report,
    });

    // The CLI's wait: from a pod's Ready to "ready" printed, through its progress stream and the watch, vs the 500 ms polling of list.
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(stack.controlPlane.kubeconfigPath);
    await measureReadyLag({
      kubeConfig,
      namespace: BENCH_NAMESPACE,
      urls,
      token: stack.issuer.issueIdToken({ email: 'ready-lag@example.com', audience: env.ALLOCATOR_AUDIENCES! }),
      rounds: ROUNDS,
      report,
    });

    // The sweep's scan, as a dry run, vs the same four label-selected lists made directly (the pool's disks are the fourth).
    const viaSweep: number[] = [];
    const rawScan: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      viaSweep.push(
        await timeMs(async () => runSweep(await executionContext(runtime, { caller: SWEEPER, report: () => undefined }), { dryRun: true })),
      );
      // Every page of each, as the scan reads them (500 to a page).
      rawScan.push(
        await timeMs(() =>
          Promise.all([
            allItems((continueToken) =>
              cluster.listDeployments({
                labelSelector: instanceSelector('syncbased'),
                limit: 500,
                ...(continueToken ? { continueToken } : {}),
              }),
            ),
            allDisks(disks, { filter: 'labels.allocator = "syncbased"', maxResults: 500 }),
            allDisks(disks, { filter: poolFilter('syncbased'), maxResults: 500 }),
            allItems((continueToken) =>
              cluster.listLeases({
                labelSelector: 'allocator.dev/allocator=syncbased,allocator.dev/slot',
                limit: 500,
                ...(continueToken ? { continueToken } : {}),
              }),
            ),
          ]),
        ),
      );
    }
    report(
      `sweep dry run, median (${OTHERS + 3} instances)`,
      fmt(percentile(viaSweep, 50)),
      fmt(percentile(rawScan, 50)),
      ratio(percentile(viaSweep, 50), percentile(rawScan, 50)),
    );

    // List as the allocator grows: the same list with LIST_GROWN other instances, against it with OTHERS.
    if (LIST_GROWN > OTHERS) {
      process.stderr.write(`[bench] growing to ${LIST_GROWN} other instances\n`);
      for (let i = OTHERS; i < LIST_GROWN; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, LIST_GROWN - i) }, (_, j) =>
            cluster.createDeployment(idleOther(renderDirect(runtime, stack.ownerFor(`other${i + j}@example.com`)).deployment)),
          ),
        );
      }
      await untilControllersCaughtUp(cluster);
      const grown = await measureList();
      report(
        `list p50 with ${LIST_GROWN} others (vs ${OTHERS})`,
        fmt(percentile(grown.via, 50)),
        fmt(percentile(viaList, 50)),
        ratio(percentile(grown.via, 50), percentile(viaList, 50)),
      );
      // The API server's growth is the floor; ours is list over the bare function's list, here against at OTHERS.
      report(
        `  our share: list over the bare function's list, with ${LIST_GROWN} others (vs with ${OTHERS})`,
        ratio(percentile(grown.via, 50), percentile(grown.floor, 50)),
        ratio(percentile(viaList, 50), percentile(floorList, 50)),
        ratio(percentile(grown.via, 50) / percentile(grown.floor, 50), percentile(viaList, 50) / percentile(floorList, 50)),
      );
      report(
        `  raw label-selected list, the same`,
        fmt(percentile(grown.raw, 50)),
        fmt(percentile(rawList, 50)),
        ratio(percentile(grown.raw, 50), percentile(rawList, 50)),
      );
      report(
        `  a GET of one of the caller's Deployments, the same`,
        fmt(percentile(grown.get, 50)),
        fmt(percentile(rawGet, 50)),
        ratio(percentile(grown.get, 50), percentile(rawGet, 50)),
      );
    }
    await Promise.all([bare.stop(), bareList.stop()]);

    // Create as the allocator grows: the same create with 0, 1,000 and 5,000 global slots taken (global limit 10,000).
    const slotCounts = (process.env.BENCH_TAKEN_SLOTS ?? '0,1000,5000').split(',').map(Number);
    const createAt = new Map<number, number>();
    let taken = 0;
    for (const count of slotCounts) {
      process.stderr.write(`[bench] ${count} global slots taken\n`);
      for (; taken < count; taken += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, count - taken) }, (_, i) =>
            cluster.createLease({
              metadata: {
                name: `syncbased-g-${taken + i}`,
                labels: {
                  'allocator.dev/allocator': 'syncbased',
                  'allocator.dev/slot': 'global',
                  'allocator.dev/instance': `syncbased-other${taken + i}`,
                },
              },
            }),
          ),
        );
      }
      const times: number[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        let name = '';
        times.push(await timeMs(async () => void (name = await createdName(await createThrough(urls.create, headers)))));
        await destroyThrough(urls.destroy, headers, name);
      }
      createAt.set(count, percentile(times, 50));
    }
    for (const count of slotCounts.slice(1)) {
      report(
        `create p50 with ${count} slots taken (vs 0)`,
        fmt(createAt.get(count) ?? 0),
        fmt(createAt.get(0) ?? 0),
        ratio(createAt.get(count) ?? 0, createAt.get(0) ?? 1),
      );
    }

    // BENCH_COLD_STARTS=0 leaves out every row that starts a process.
    let bareRss = 0;
    if (COLD_STARTS > 0) {
      // Cold start: process start to the first 200 from list, vs a bare framework function.
      const listCold: number[] = [];
      const bareCold: number[] = [];
      let listRss = 0;
      for (let round = 0; round < COLD_STARTS; round += 1) {
        const list = await coldStart(['--target=list', `--source=${join(ROOT, 'functions/list/index.ts')}`], env, listerHeaders, workDir);
        const bare = await coldStart(['--target=bare', `--source=${join(ROOT, 'bench/bare-function.ts')}`], {}, {}, workDir);
        listCold.push(list.ms);
        bareCold.push(bare.ms);
        listRss = list.rssMb;
        bareRss = bare.rssMb;
      }
      report(
        'list from source: cold start to first 200',
        fmt(percentile(listCold, 50)),
        fmt(percentile(bareCold, 50)),
        ratio(percentile(listCold, 50), percentile(bareCold, 50)),
      );
      report('RSS after first request (list)', `${listRss.toFixed(0)} MB`, `${bareRss.toFixed(0)} MB`, ratio(listRss, bareRss));
    }

    // The deployed form: each bundle installed alone, from process start, against a bare function's bundle.
    if (process.env.BENCH_BUNDLES !== '0') {
      process.stderr.write('[bench] bundling and installing the three functions\n');
      const dirs = await installedBundles(join(workDir, 'bundles'));
      const bare = bareBundle(join(workDir, 'bare'), dirname(dirname(dirname(FRAMEWORK_MAIN))));
      const { ALLOCATOR_TEMPLATE: _template, ...apiEnv } = env;
      // Instances for destroy to take, so that the order below may change from round to round.
      const made: string[] = [];
      for (let round = 0; round < COLD_STARTS; round += 1) made.push(await createdName(await createThrough(urls.create, headers)));
      const logFile = join(workDir, 'bundle.log');
      const starts: Record<string, () => Promise<ColdFigures>> = {
        bare: () => coldBundle({ dir: bare, target: 'bare', env: {}, request: (url) => fetch(url), logFile }),
        list: () =>
          coldBundle({ dir: dirs.list, target: 'list', env: apiEnv, request: (url) => fetch(url, { headers: listerHeaders }), logFile }),
        create: () =>
          coldBundle({
            dir: dirs.create,
            target: 'create',
            env: { ...apiEnv, ALLOCATOR_TEMPLATE: 'templates/syncbased-deployment.json.hbs' },
            request: async (url) => {
              const answer = await fetch(url, { method: 'POST', headers, body: '{"wait": false}' });
              if (answer.ok) made.push(((await answer.clone().json()) as { name: string }).name);
              return answer;
            },
            logFile,
          }),
        destroy: () =>
          coldBundle({
            dir: dirs.destroy,
            target: 'destroy',
            env: apiEnv,
            request: (url) => fetch(url, { method: 'POST', headers, body: JSON.stringify({ name: made.pop() }) }),
            logFile,
          }),
        // The same list bundle with Node told to leave the cache its build made (start.js then loads index.js as before).
        'list without its compile cache': () =>
          coldBundle({
            dir: dirs.list,
            target: 'list',
            env: { ...apiEnv, NODE_DISABLE_COMPILE_CACHE: '1' },
            request: (url) => fetch(url, { headers: listerHeaders }),
            logFile,
          }),
      };
      // Each round starts them in another order, so that none always follows the same one.
      const order = Object.keys(starts);
      const figures: Record<string, ColdFigures[]> = Object.fromEntries(order.map((fn) => [fn, []]));
      for (let round = 0; round < COLD_STARTS; round += 1) {
        for (let i = 0; i < order.length; i += 1) {
          const fn = order[(round + i) % order.length]!;
          figures[fn]!.push(await starts[fn]!());
        }
      }
      for (const name of made) await destroyThrough(urls.destroy, headers, name);
      const median = (fn: string, pick: (f: ColdFigures) => number): number => percentile(figures[fn]!.map(pick), 50);
      for (const fn of ['list', 'create', 'destroy']) {
        report(
          `${fn} bundle: start to first answer (vs bare)`,
          fmt(median(fn, (f) => f.readyMs)),
          fmt(median('bare', (f) => f.readyMs)),
          ratio(
            median(fn, (f) => f.readyMs),
            median('bare', (f) => f.readyMs),
          ),
        );
        report(
          `${fn} bundle: first real request (vs bare's)`,
          fmt(median(fn, (f) => f.firstRequestMs)),
          fmt(median('bare', (f) => f.firstRequestMs)),
          ratio(
            median(fn, (f) => f.firstRequestMs),
            median('bare', (f) => f.firstRequestMs),
          ),
        );
        report(
          `${fn} bundle: first real request vs a warm one`,
          fmt(median(fn, (f) => f.firstRequestMs)),
          fmt(median(fn, (f) => f.warmRequestMs)),
          ratio(
            median(fn, (f) => f.firstRequestMs),
            median(fn, (f) => f.warmRequestMs),
          ),
        );
        report(
          `${fn} bundle: RSS after it (vs bare)`,
          `${median(fn, (f) => f.rssMb).toFixed(0)} MB`,
          `${median('bare', (f) => f.rssMb).toFixed(0)} MB`,
          ratio(
            median(fn, (f) => f.rssMb),
            median('bare', (f) => f.rssMb),
          ),
        );
      }
      report(
        'list bundle: start to first answer, with its compile cache (vs without)',
        fmt(median('list', (f) => f.readyMs)),
        fmt(median('list without its compile cache', (f) => f.readyMs)),
        ratio(
          median('list', (f) => f.readyMs),
          median('list without its compile cache', (f) => f.readyMs),
        ),
      );
      // Where the bundles' extra start goes: each package they load, imported alone, against the bare function's whole start.
      for (const part of await measureImportCosts(dirs.list, COLD_STARTS)) {
        report(
          `import alone: ${part.label} (vs bare start)`,
          fmt(part.ms),
          fmt(median('bare', (f) => f.readyMs)),
          ratio(
            part.ms,
            median('bare', (f) => f.readyMs),
          ),
        );
      }
    }

    if (COLD_STARTS > 0) {
      // The compute client: each way of loading it, process start to the first disk call.
      const computeOptions = await measureComputeOptions(stack.emulator.url, COLD_STARTS);
      const [before] = computeOptions;
      for (const option of computeOptions.slice(1)) {
        report(`compute: start to first disk call, ${option.label}`, fmt(option.ms), fmt(before!.ms), ratio(option.ms, before!.ms));
        report(
          `compute: RSS after it, ${option.label}`,
          `${option.rssMb.toFixed(0)} MB`,
          `${before!.rssMb.toFixed(0)} MB`,
          ratio(option.rssMb, before!.rssMb),
        );
      }

      const create = await startFunctionProcess({ name: 'create', env, logFile: join(workDir, 'create.log') });
      const response = await fetch(create.url, { method: 'POST', headers, body: '{"wait": false}' });
      const createRss = rssOfChildNode(create.process.pid);
      report(
        'RSS after first request (create, from source)',
        `${createRss.toFixed(0)} MB`,
        `${bareRss.toFixed(0)} MB`,
        ratio(createRss, bareRss),
      );
      if (response.status === 201) {
        const { name } = (await response.json()) as { name: string };
        await fetch(urls.destroy, { method: 'POST', headers, body: JSON.stringify({ name }) });
      }
      await create.stop();
    }
  } finally {
    await stack.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  printTable(
    `Allocator benchmark (${ROUNDS} rounds; baselines: the same Kubernetes and disk calls made directly, raw label-selector lists, a bare functions-framework function, compute's package index)`,
    rows,
  );
}

/** Waits until the Deployment controller has seen every Deployment, so that its backlog does not hold up what is measured next. */
async function untilControllersCaughtUp(cluster: ClusterClient): Promise<void> {
  for (;;) {
    const deployments = await allItems((continueToken) =>
      cluster.listDeployments({ labelSelector: instanceSelector('syncbased'), limit: 500, ...(continueToken ? { continueToken } : {}) }),
    );
    const behind = deployments.filter((d) => (d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 1)).length;
    if (behind === 0) return;
    process.stderr.write(`[bench] the Deployment controller has ${behind} Deployments to see to\n`);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
  }
}

/** Starts the framework CLI with `args` and times it to the first 200; returns that and its RSS. */
async function coldStart(
  args: string[],
  env: Record<string, string>,
  headers: Record<string, string>,
  workDir: string,
): Promise<{ ms: number; rssMb: number }> {
  const port = await getFreePort();
  const started = performance.now();
  const child = startProcess({
    name: 'cold',
    command: process.execPath,
    args: [FRAMEWORK_MAIN, ...args, `--port=${port}`],
    logFile: join(workDir, 'cold.log'),
    env: { ...process.env, ...env, NODE_ENV: 'production' },
  });
  try {
    for (;;) {
      const status = await fetch(`http://127.0.0.1:${port}/`, { headers }).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) break;
      if (performance.now() - started > 30_000) throw new Error(`no 200 from ${args.join(' ')}: ${child.logTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return { ms: performance.now() - started, rssMb: rssOfChildNode(child.pid) };
  } finally {
    await child.stop();
  }
}

await main();
