import { AppsV1Api, CoordinationV1Api, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config/load-config.ts';
import { runSweep } from '../../../shared/executors/run-sweep.ts';
import type { SweepReport } from '../../../shared/executors/sweep.ts';
import { executionContext, SWEEPER } from '../../../shared/handlers/execution-context.ts';
import { ANNOTATIONS, DISK_LABELS } from '../../../shared/instances/metadata.ts';
import { makeCreateRuntime } from '../../../shared/runtime/create-runtime.ts';
import type { Disk } from '../../harness/disks-emulator.ts';
import { ADMIN, call, PROJECT, startTestStack, ZONE, type TestStack } from '../stack.ts';

const POOL_SIZE = 3;
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    prefix: 'pool',
    overrides: { ALLOCATOR_DISK_POOL_SIZE: String(POOL_SIZE), ALLOCATOR_MAX_INSTANCES_PER_USER: '2', ALLOCATOR_MAX_INSTANCES: '20' },
  });
});
afterAll(async () => {
  await stack?.stop();
});

const disks = (): Disk[] => stack.emulator.disks({ project: PROJECT, zone: ZONE });
const freePool = (): string[] =>
  disks()
    .filter((disk) => disk.labels?.[DISK_LABELS.pool] === 'syncbased' && disk.labels[DISK_LABELS.poolState] === 'free')
    .map((disk) => disk.name)
    .sort();
const deployments = async (): Promise<V1Deployment[]> =>
  (await stack.kubeConfig.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: stack.namespace })).items;

async function sweep(body: { dryRun?: boolean } = {}): Promise<SweepReport> {
  const answer = await call<SweepReport>(`${stack.urls.destroy}/sweep`, { token: stack.tokenFor(ADMIN), body });
  expect(answer.status).toBe(200);
  return answer.body;
}

async function create(email: string, key?: string): Promise<{ status: number; name?: string }> {
  const response = await fetch(stack.urls.create, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.tokenFor(email)}`, ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify({ wait: false }),
  });
  const body = (await response.json()) as { name?: string };
  return { status: response.status, ...(body.name ? { name: body.name } : {}) };
}

async function destroyAll(): Promise<void> {
  await stack.runtime.background.settled();
  for (const deployment of await deployments()) {
    const answer = await call(stack.urls.destroy, { token: stack.tokenFor(ADMIN), body: { name: deployment.metadata?.name } });
    expect(answer.status).toBe(200);
  }
}

/** Every disk is a free pool disk or the disk of exactly one Deployment, under the Deployment's own name. */
async function expectEachDiskOnce(): Promise<void> {
  const names = (await deployments()).map((deployment) => deployment.metadata?.annotations?.[ANNOTATIONS.disk] ?? '');
  expect(new Set(names).size).toBe(names.length);
  expect((await deployments()).every((d) => d.metadata?.annotations?.[ANNOTATIONS.disk] === d.metadata?.name)).toBe(true);
  expect([...names, ...freePool()].sort()).toEqual(
    disks()
      .map((disk) => disk.name)
      .sort(),
  );
}

describe('the warm pool of disks', () => {
  it('is topped up by the sweep, counted in its report and shown to list --all', async () => {
    expect((await sweep({ dryRun: true })).pool).toEqual({ size: POOL_SIZE, free: 0, made: POOL_SIZE, retired: [] });
    expect(freePool()).toEqual([]);
    expect((await sweep()).pool).toEqual({ size: POOL_SIZE, free: 0, made: POOL_SIZE, retired: [] });
    expect(freePool()).toHaveLength(POOL_SIZE);
    expect((await sweep()).pool).toEqual({ size: POOL_SIZE, free: POOL_SIZE, made: 0, retired: [] });
    const listed = await call(stack.urls.list, { token: stack.tokenFor(ADMIN), method: 'GET', query: '?all=true' });
    expect(listed.body).toEqual({ instances: [], pool: { size: POOL_SIZE } });
  });

  it('gives each of its disks to one create of many at once, which takes its name, and refills itself', async () => {
    const pooled = freePool();
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => create(`many-${i}@example.com`)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(201));
    const names = answers.map((answer) => answer.name ?? '');
    expect(new Set(names).size).toBe(6);
    // Every disk the pool held went to exactly one of them; the others made their own (or took a refill).
    expect(pooled.every((disk) => names.filter((name) => name === disk).length === 1)).toBe(true);
    await stack.runtime.background.settled();
    await expectEachDiskOnce();
    expect(freePool().length).toBeGreaterThanOrEqual(POOL_SIZE);
    expect(stack.logs.some((line) => line.includes('claimed the pool disk'))).toBe(true);
    await destroyAll();
    expect(
      disks()
        .map((disk) => disk.name)
        .sort(),
    ).toEqual(freePool());
  });

  it('gives a keyed create retried many times at once one instance, and its retry that instance again', async () => {
    const email = 'keyed@example.com';
    const pooled = freePool();
    const answers = await Promise.all(Array.from({ length: 6 }, () => create(email, 'one-key')));
    for (const answer of answers) expect([201, 409]).toContain(answer.status);
    const made = new Set(answers.flatMap((answer) => (answer.status === 201 ? [answer.name] : [])));
    expect(made.size).toBe(1);
    const [name] = [...made];
    expect(pooled).toContain(name); // it took a pool disk's name, not one made from the key
    expect((await deployments()).map((d) => d.metadata?.name)).toEqual([name]);
    expect(await create(email, 'one-key')).toEqual({ status: 201, name });
    await stack.runtime.background.settled();
    await expectEachDiskOnce();
    await destroyAll();
    // The key's record went with the instance.
    const leases = (await stack.kubeConfig.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: stack.namespace })).items;
    expect(leases.map((lease) => lease.metadata?.name)).toEqual([]);
  });

  it('gets back the disk of a create that fails, free again', async () => {
    const email = 'full@example.com';
    for (let i = 0; i < 2; i += 1) expect((await create(email)).status).toBe(201);
    await stack.runtime.background.settled();
    const before = freePool();
    expect(before.length).toBeGreaterThan(0);
    expect((await create(email)).status).toBe(429); // over the per-user limit, after claiming a pool disk
    const givenBack = stack.logs.find((line) => line.includes('back to the pool'));
    expect(givenBack).toBeDefined();
    await stack.runtime.background.settled();
    expect(freePool()).toEqual(expect.arrayContaining(before));
    await expectEachDiskOnce();
    await destroyAll();
  });

  it('is shrunk to its size, and replaced when the disk setting changes; the sweep never takes its disks for orphans', async () => {
    const eager = makeCreateRuntime(loadConfig({ ...stack.env, ALLOCATOR_ORPHAN_GRACE_SECONDS: '0' }));
    const sweepWith = async (runtime: typeof eager) =>
      await runSweep(await executionContext(runtime, { caller: SWEEPER, report: () => undefined }), { dryRun: false });
    const extra = freePool().length - POOL_SIZE;
    const shrunk = await sweepWith(eager);
    expect(shrunk.orphanDisks).toEqual([]);
    expect(shrunk.pool).toMatchObject({ size: POOL_SIZE, made: Math.max(0, -extra) });
    expect(shrunk.pool.retired.map((entry) => entry.why)).toEqual(Array(Math.max(0, extra)).fill('beyond-size'));
    expect(freePool()).toHaveLength(POOL_SIZE);

    const old = freePool();
    const bigger = makeCreateRuntime(loadConfig({ ...stack.env, ALLOCATOR_DISK_SIZE_GB: '20' }));
    const replaced = await sweepWith(bigger);
    expect(replaced.pool).toMatchObject({ size: POOL_SIZE, free: 0, made: POOL_SIZE });
    expect(replaced.pool.retired).toEqual(old.map((name) => ({ name, why: 'spec-changed' })));
    expect(disks().map((disk) => disk.sizeGb)).toEqual(Array(POOL_SIZE).fill('20'));

    const off = makeCreateRuntime(loadConfig({ ...stack.env, ALLOCATOR_DISK_SIZE_GB: '20', ALLOCATOR_DISK_POOL_SIZE: '0' }));
    expect((await sweepWith(off)).pool).toMatchObject({ size: 0, made: 0, retired: expect.any(Array) });
    expect(disks()).toEqual([]);
  });
});
