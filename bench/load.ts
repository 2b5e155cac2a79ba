// `npm run bench:load`: creates and destroys through 4 create and 4 destroy
// function processes, many in flight, against the local control plane, with
// the disk pool on (ALLOCATOR_DISK_POOL_SIZE, default 2). Prints throughput,
// p50 and p99 and the errors, then checks that nothing is left but the pool's
// free disks, that the global limit held at every moment sampled, and that no
// disk was claimed twice: every instance's name (its disk's) is new, and at
// every moment sampled each disk is free in the pool or used by at most one
// Deployment, under that Deployment's name. Asserts nothing else.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoordinationV1Api, KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../shared/config/load-config.ts';
import { makePoolDisk } from '../shared/executors/disk-pool.ts';
import { disksFor } from '../shared/runtime/clients.ts';
import { ANNOTATIONS, DISK_LABELS } from '../shared/instances/metadata.ts';
import { startControlPlane } from '../test/harness/control-plane.ts';
import { startDisksEmulator, type Disk } from '../test/harness/disks-emulator.ts';
import { startFunctionProcess, type FunctionProcess } from '../test/harness/function-process.ts';
import { startTokenIssuer } from '../test/harness/token-issuer.ts';
import { cpuMsOf, nodePidUnder, rssMbOf } from './proc.ts';
import { allocatorEnvFor } from './serve.ts';
import { createBenchNamespace } from './stack.ts';
import { fmt, percentile } from './stats.ts';

const OPERATIONS = Number(process.env.BENCH_LOAD_OPERATIONS ?? 1000);
const IN_FLIGHT = Number(process.env.BENCH_LOAD_IN_FLIGHT ?? 16);
const PROCESSES = Number(process.env.BENCH_LOAD_PROCESSES ?? 4);
const LIMIT = Number(process.env.BENCH_LOAD_GLOBAL_LIMIT ?? IN_FLIGHT);
// The local controller manager's rate limit (20 a second) caps creates and destroys at about 2 a second; raise it to see past it.
const CONTROLLER_QPS = process.env.BENCH_CONTROLLER_QPS ? Number(process.env.BENCH_CONTROLLER_QPS) : undefined;

async function main(): Promise<void> {
  const controlPlane = await startControlPlane(CONTROLLER_QPS ? { controllerManagerQps: CONTROLLER_QPS } : {});
  const issuer = await startTokenIssuer();
  const emulator = await startDisksEmulator();
  const workDir = mkdtempSync(join(tmpdir(), 'allocator-load-'));
  const processes: FunctionProcess[] = [];
  try {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
    await createBenchNamespace(controlPlane.kubeconfigPath);
    const env: Record<string, string> = {
      ...allocatorEnvFor({
        kubeconfigPath: controlPlane.kubeconfigPath,
        namespace: 'bench',
        emulatorUrl: emulator.url,
        certsUrl: issuer.certsUrl,
      }),
      ALLOCATOR_MAX_INSTANCES: String(LIMIT),
      ALLOCATOR_MAX_INSTANCES_PER_USER: String(LIMIT),
    };
    for (let i = 0; i < PROCESSES; i += 1) {
      processes.push(await startFunctionProcess({ name: 'create', env, logFile: join(workDir, `create-${i}.log`) }));
      processes.push(await startFunctionProcess({ name: 'destroy', env, logFile: join(workDir, `destroy-${i}.log`) }));
    }
    // The pool starts full, as the sweep leaves it; the creates' refills keep it so.
    const config = loadConfig(env);
    const poolDisks = disksFor(config)();
    const random = (bytes: number): Buffer => randomBytes(bytes);
    await Promise.all(
      Array.from({ length: config.diskPool.size }, () =>
        makePoolDisk({ disks: poolDisks, serverName: config.serverName, disk: config.disk, random }),
      ),
    );
    await poolDisks.close();
    const creates = processes.filter((p) => p.name === 'create');
    const destroys = processes.filter((p) => p.name === 'destroy');
    const headers = { authorization: `Bearer ${issuer.issueIdToken({ email: 'load@example.com', audience: env.ALLOCATOR_AUDIENCES! })}` };
    const leases = kubeConfig.makeApiClient(CoordinationV1Api);

    // What each create process holds before the load, to fit a deploy's concurrency to what a request costs.
    const createPids = creates.map((p) => nodePidUnder(p.process.pid));
    const idleRss = createPids.map(rssMbOf);
    const cpuBefore = createPids.map(cpuMsOf);
    const peakRss = [...idleRss];

    // The limit, sampled: global slots held at once never exceed it. And the disks: none used twice.
    let maxHeld = 0;
    let sampling = true;
    const diskProblems: string[] = [];
    let diskSamples = 0;
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const sampler = (async () => {
      while (sampling) {
        const held = (await leases.listNamespacedLease({ namespace: 'bench', labelSelector: 'allocator.dev/slot=global' })).items.length;
        maxHeld = Math.max(maxHeld, held);
        createPids.forEach((pid, i) => (peakRss[i] = Math.max(peakRss[i]!, rssMbOf(pid))));
        diskProblems.push(...disksUsedTwice((await apps.listNamespacedDeployment({ namespace: 'bench' })).items, emulator.disks()));
        diskSamples += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const made: string[] = [];

    const createMs: number[] = [];
    const destroyMs: number[] = [];
    const errors = new Map<string, number>();
    const messages: string[] = [];
    let refused = 0;
    let next = 0;
    const started = performance.now();
    const worker = async (): Promise<void> => {
      while (next < OPERATIONS) {
        const n = next;
        next += 1;
        const t0 = performance.now();
        const created = await fetch(creates[n % creates.length]!.url, { method: 'POST', headers, body: '{}' });
        if (created.status === 429) {
          refused += 1; // the limit doing its job, not an error: wait for a destroy, then try again
          await created.text();
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        if (created.status !== 201) {
          errors.set(`create ${created.status}`, (errors.get(`create ${created.status}`) ?? 0) + 1);
          messages.push(`create ${created.status}: ${(await created.text()).slice(0, 300)}`);
          continue;
        }
        createMs.push(performance.now() - t0);
        const { name } = (await created.json()) as { name: string };
        made.push(name);
        const t1 = performance.now();
        const destroyed = await fetch(destroys[n % destroys.length]!.url, { method: 'POST', headers, body: JSON.stringify({ name }) });
        const text = await destroyed.text();
        if (destroyed.status === 200) destroyMs.push(performance.now() - t1);
        else {
          errors.set(`destroy ${destroyed.status}`, (errors.get(`destroy ${destroyed.status}`) ?? 0) + 1);
          messages.push(`destroy ${destroyed.status}: ${text.slice(0, 300)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const seconds = (performance.now() - started) / 1000;
    sampling = false;
    await sampler;

    const cpuPerCreate = createPids.reduce((sum, pid, i) => sum + cpuMsOf(pid) - cpuBefore[i]!, 0) / Math.max(1, createMs.length);
    const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
    const perProcess = IN_FLIGHT / PROCESSES;
    // Refills the last creates started may still be running.
    for (let i = 0; i < 100 && emulator.disks().some((disk) => disk.status === 'CREATING'); i += 1)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const isFree = (disk: Disk): boolean => disk.labels?.[DISK_LABELS.poolState] === 'free';
    const left = {
      deployments: (await apps.listNamespacedDeployment({ namespace: 'bench' })).items.length,
      leases: (await leases.listNamespacedLease({ namespace: 'bench' })).items.length,
      disks: emulator.disks().filter((disk) => !isFree(disk)).length,
    };
    const poolLeft = emulator.disks().filter(isFree).length;
    const reused = made.length - new Set(made).size;
    console.log(
      `\nLoad: ${OPERATIONS} creates tried, ${IN_FLIGHT} in flight, through ${PROCESSES} create and ${PROCESSES} destroy processes, global limit ${LIMIT}${CONTROLLER_QPS ? `, controller manager at ${CONTROLLER_QPS} requests a second` : ''}`,
    );
    console.log(
      `  completed   ${createMs.length} creates and ${destroyMs.length} destroys in ${seconds.toFixed(1)} s: ${(createMs.length / seconds).toFixed(1)} create+destroy/s`,
    );
    console.log(`  create      p50 ${fmt(percentile(createMs, 50))}  p99 ${fmt(percentile(createMs, 99))}`);
    console.log(`  destroy     p50 ${fmt(percentile(destroyMs, 50))}  p99 ${fmt(percentile(destroyMs, 99))}`);
    console.log(`  refused     ${refused} creates with 429 (the limit), each counted as one of the ${OPERATIONS} tries`);
    console.log(`  errors      ${errors.size === 0 ? 0 : JSON.stringify(Object.fromEntries(errors))}`);
    for (const message of messages.slice(0, 5)) console.log(`              ${message}`);
    console.log(
      `  create proc RSS ${mean(idleRss).toFixed(0)} MB idle, ${mean(peakRss).toFixed(0)} MB at peak with ${perProcess} in flight each: ${((mean(peakRss) - mean(idleRss)) / perProcess).toFixed(2)} MB per request in flight; CPU ${cpuPerCreate.toFixed(1)} ms per create`,
    );
    console.log(`  limit       at most ${maxHeld} global slots held at once (limit ${LIMIT}): ${maxHeld <= LIMIT ? 'held' : 'EXCEEDED'}`);
    console.log(
      `  disks       ${made.length} instances, ${emulator.calls['disks.setLabels'] ?? 0} pool claims tried, ${reused} names given twice; ${diskSamples} samples, ${diskProblems.length} disks used twice or while free: ${reused + diskProblems.length === 0 ? 'none claimed twice' : 'CLAIMED TWICE'}`,
    );
    for (const problem of [...new Set(diskProblems)].slice(0, 5)) console.log(`              ${problem}`);
    console.log(
      `  left        ${JSON.stringify(left)} and ${poolLeft} free pool disks (size ${config.diskPool.size}): ${left.deployments + left.leases + left.disks === 0 ? 'nothing' : 'LEFTOVERS'}`,
    );
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    await Promise.all([issuer.stop(), emulator.stop()]);
    await controlPlane.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** What is wrong with the disks at one moment: a disk two Deployments use, one a Deployment of another name uses, or a free pool disk in use. */
function disksUsedTwice(deployments: readonly V1Deployment[], disks: readonly Disk[]): string[] {
  const byName = new Map(disks.map((disk) => [disk.name, disk]));
  const users = new Map<string, string[]>();
  for (const deployment of deployments) {
    const disk = deployment.metadata?.annotations?.[ANNOTATIONS.disk] ?? '';
    users.set(disk, [...(users.get(disk) ?? []), deployment.metadata?.name ?? '']);
  }
  const problems: string[] = [];
  for (const [disk, names] of users) {
    if (names.length > 1) problems.push(`disk ${disk} used by ${names.join(', ')}`);
    if (names.some((name) => name !== disk)) problems.push(`disk ${disk} used by ${names.join(', ')}, of another name`);
    if (byName.get(disk)?.labels?.[DISK_LABELS.poolState] === 'free')
      problems.push(`disk ${disk} used by ${names.join(', ')} while free in the pool`);
  }
  return problems;
}

await main();
