import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../../shared/executors/run-sweep.ts';
import type { SweepReport } from '../../../shared/executors/sweep.ts';
import { executionContext, SWEEPER } from '../../../shared/handlers/execution-context.ts';
import { loadConfig } from '../../../shared/config/load-config.ts';
import { makeCreateRuntime } from '../../../shared/runtime/create-runtime.ts';
import type { Instance } from '../../../shared/instances/instance.ts';
import { startFunctionProcess } from '../../harness/function-process.ts';
import { ADMIN, call, diskNames as disksOf, startTestStack, type TestStack } from '../stack.ts';
import { eventually } from '../support.ts';

// Wide enough for a loaded machine: creationTimestamp also rounds down to the second.
const GRACE_SECONDS = 8;
let stack: TestStack;
let logDir: string;
beforeAll(async () => {
  stack = await startTestStack({
    prefix: 'sweep',
    overrides: {
      ALLOCATOR_ORPHAN_GRACE_SECONDS: String(GRACE_SECONDS),
      ALLOCATOR_DEFAULT_LIFETIME_SECONDS: '3600',
      ALLOCATOR_MAX_LIFETIME_SECONDS: '86400',
      ALLOCATOR_MAX_INSTANCES_PER_USER: '10',
      ALLOCATOR_MAX_INSTANCES: '50',
    },
  });
  logDir = mkdtempSync(join(tmpdir(), 'allocator-sweep-'));
});
afterAll(async () => {
  await stack?.stop();
  rmSync(logDir, { recursive: true, force: true });
});

const apps = () => stack.kubeConfig.makeApiClient(AppsV1Api);
const coordination = () => stack.kubeConfig.makeApiClient(CoordinationV1Api);
const deploymentNames = async (): Promise<string[]> =>
  (await apps().listNamespacedDeployment({ namespace: stack.namespace })).items.map((d) => d.metadata?.name ?? '').sort();
const leaseNames = async (): Promise<string[]> =>
  (await coordination().listNamespacedLease({ namespace: stack.namespace })).items.map((l) => l.metadata?.name ?? '').sort();
/** Every disk, in any zone (one elsewhere is named with its zone). */
const diskNames = (): string[] => disksOf(stack.emulator);
const pastGrace = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, GRACE_SECONDS * 1000 + 500));

async function sweep(body: { dryRun?: boolean } = {}, email = ADMIN) {
  return await call<SweepReport & { error?: { code: number } }>(`${stack.urls.destroy}/sweep`, { token: stack.tokenFor(email), body });
}
async function create(email: string, body: Record<string, unknown> = { wait: false }) {
  return await call<Instance>(stack.urls.create, { token: stack.tokenFor(email), body });
}
async function destroyAll(): Promise<void> {
  const all = await call<{ instances: Instance[] }>(stack.urls.list, { token: stack.tokenFor(ADMIN), method: 'GET', query: '?all=true' });
  await Promise.all(all.body.instances.map((i) => call(stack.urls.destroy, { token: stack.tokenFor(ADMIN), body: { name: i.name } })));
}

describe('the cleanup sweep', () => {
  it('refuses non-admins with 403', async () => {
    const response = await sweep({}, 'mallory@example.com');
    expect(response.status).toBe(403);
    expect(response.body.error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED' });
  });

  it('removes the disk and slots of a create whose process was killed between the disk and the Deployment', async () => {
    const createProcess = await startFunctionProcess({ name: 'create', env: stack.env, logFile: join(logDir, 'killed-create.log') });
    // The disk is made at once; its operation then takes long enough to kill the process mid-create.
    stack.emulator.injectFault({ method: 'zoneOperations.wait', kind: 'latency', latencyMs: 30_000 });
    const pending = fetch(createProcess.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.tokenFor('ann@example.com')}` },
      body: '{}',
    }).catch(() => 'cut');
    const [disk] = await eventually(async () => (diskNames().length === 1 ? diskNames() : undefined), 20_000, 'the disk to be created');
    createProcess.process.kill();
    expect(await pending).toBe('cut');
    await createProcess.process.exited;
    stack.emulator.clearFaults();
    expect(await deploymentNames()).toEqual([]);
    expect((await leaseNames()).length).toBe(2); // the per-user and the global slot

    const tooSoon = await sweep();
    expect(tooSoon.body).toMatchObject({ orphanDisks: [], orphanSlots: [] });
    expect(diskNames()).toEqual([disk]);

    await pastGrace();
    const report = await sweep();
    expect(report.status).toBe(200);
    // Its record says what they are: the records' walk tears the instance down, and nothing is taken for an orphan.
    expect(report.body).toMatchObject({ orphanDisks: [], orphanSlots: [], failed: [] });
    expect(report.body.reconciled).toEqual([`tear down ${disk}, whose Deployment is gone`]);
    expect(diskNames()).toEqual([]);
    expect(await leaseNames()).toEqual([]);
  });

  it('removes a Deployment whose disk was deleted behind its back', async () => {
    const created = await create('ben@example.com');
    await stack.runtime.disks().deleteDisk(created.body.name);
    await pastGrace();
    const report = await sweep();
    expect(report.body.orphanDeployments.map((d) => d.name)).toEqual([created.body.name]);
    expect(await deploymentNames()).toEqual([]);
    expect(await leaseNames()).toEqual([]);
  });

  it('destroys expired instances and leaves unexpired ones and unlabelled resources alone', async () => {
    const expiring = await create('cal@example.com', { wait: false, lifetimeSeconds: 1 });
    const lasting = await create('cal@example.com', { wait: false });
    expect(lasting.body.expiresAt).not.toBeNull();
    // Look-alikes this allocator did not label: never touched.
    await apps().createNamespacedDeployment({
      namespace: stack.namespace,
      body: {
        metadata: { name: 'syncbased-aaaaaaaa', labels: { app: 'x' } },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'x' } },
          template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'x', image: 'x' }] } },
        },
      },
    });
    await stack.runtime.disks().createDisk({ name: 'unlabelled-disk', sizeGb: 1, type: 'pd-standard', labels: {} });
    await stack.runtime.disks().createDisk({
      name: 'other-allocator-disk',
      sizeGb: 1,
      type: 'pd-standard',
      labels: { allocator: 'another', 'allocator-instance': 'other-allocator-disk' },
    });
    await pastGrace();

    const dry = await sweep({ dryRun: true });
    expect(dry.body).toMatchObject({
      dryRun: true,
      expired: [expect.objectContaining({ name: expiring.body.name, owner: 'cal@example.com' })],
      orphanDisks: [],
      orphanDeployments: [],
    });
    expect(await deploymentNames()).toContain(expiring.body.name); // a dry run changes nothing

    const report = await sweep();
    expect(report.body.expired.map((e) => e.name)).toEqual([expiring.body.name]);
    // The counts the log-based metrics read (infra/monitoring/allocator_sweep_*.yaml).
    const logged = stack.logs
      .map((line) => JSON.parse(line) as { function: string; details?: Record<string, number> })
      .filter((line) => line.details)
      .at(-1);
    expect(logged).toMatchObject({ function: 'destroy', details: { sweepExpired: 1, sweepOrphans: 0, sweepFailed: 0, sweepDeferred: 0 } });
    expect(report.body).toMatchObject({ orphanDisks: [], orphanDeployments: [], failed: [] });
    expect(await deploymentNames()).toEqual([lasting.body.name, 'syncbased-aaaaaaaa'].sort());
    expect(diskNames()).toEqual([lasting.body.name, 'other-allocator-disk', 'unlabelled-disk'].sort());
    await apps().deleteNamespacedDeployment({ name: 'syncbased-aaaaaaaa', namespace: stack.namespace });
    await stack.runtime.disks().deleteDisk('unlabelled-disk');
    await stack.runtime.disks().deleteDisk('other-allocator-disk');
    await destroyAll();
  });

  it('bounds the destroys of one sweep and leaves the rest for the next', async () => {
    await Promise.all(['d1', 'd2', 'd3'].map((user) => create(`${user}@example.com`, { wait: false, lifetimeSeconds: 1 })));
    await pastGrace();
    const bounded = makeCreateRuntime(loadConfig({ ...stack.env, ALLOCATOR_SWEEP_MAX_DESTROYS: '2' }));
    const sweepDirectly = async () =>
      await runSweep(await executionContext(bounded, { caller: SWEEPER, report: () => undefined }), { dryRun: false });
    const first = await sweepDirectly();
    expect(first.expired).toHaveLength(2);
    expect(first.deferred).toBe(1);
    const second = await sweepDirectly();
    expect(second.expired).toHaveLength(1);
    expect(second.deferred).toBe(0);
    expect(await deploymentNames()).toEqual([]);
    await bounded.disks().close();
  });

  it('runs twice at once beside creates without losing a live instance or leaving an orphan', async () => {
    const results = await Promise.all([...Array.from({ length: 6 }, (_, i) => create(`e${i}@example.com`)), sweep(), sweep()]);
    const created = results.slice(0, 6).map((r) => (r.body as Instance).name);
    expect(results.slice(0, 6).map((r) => r.status)).toEqual(Array(6).fill(201));
    expect(results.slice(6).map((r) => r.status)).toEqual([200, 200]);
    await pastGrace();
    const [a, b] = await Promise.all([sweep(), sweep()]);
    for (const report of [a.body, b.body])
      expect(report).toMatchObject({ expired: [], orphanDisks: [], orphanDeployments: [], orphanSlots: [], failed: [] });
    expect(await deploymentNames()).toEqual([...created].sort());
    expect(diskNames()).toEqual([...created].sort());
    expect((await leaseNames()).length).toBe(12);
    await destroyAll();
    expect(diskNames()).toEqual([]);
  });
});

describe('instance lifetimes', () => {
  it('are set at create within the maximum, shown by list, and extended by the owner only', async () => {
    expect((await create('fio@example.com', { wait: false, lifetimeSeconds: 86_401 })).status).toBe(400);
    const created = await create('fio@example.com', { wait: false, lifetimeSeconds: 600 });
    expect(created.status).toBe(201);
    const expiresAt = Date.parse(created.body.expiresAt ?? '');
    expect(expiresAt - Date.now()).toBeGreaterThan(590_000);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(600_000);

    const listed = await call<{ instances: Instance[] }>(stack.urls.list, { token: stack.tokenFor('fio@example.com'), method: 'GET' });
    expect(listed.body.instances[0]?.expiresAt).toBe(created.body.expiresAt);

    const extend = (email: string, body: Record<string, unknown>) =>
      call<Instance>(`${stack.urls.create}/extend`, { token: stack.tokenFor(email), body });
    const extended = await extend('fio@example.com', { name: created.body.name, lifetimeSeconds: 7200 });
    expect(extended.status).toBe(200);
    expect(Date.parse(extended.body.expiresAt ?? '') - Date.now()).toBeGreaterThan(7_000_000);
    expect((await extend('gil@example.com', { name: created.body.name, lifetimeSeconds: 7200 })).status).toBe(404);
    expect((await extend('fio@example.com', { name: created.body.name, lifetimeSeconds: 90_000 })).status).toBe(400);
    expect((await call(stack.urls.destroy, { token: stack.tokenFor('fio@example.com'), body: { name: created.body.name } })).status).toBe(
      200,
    );
  });
});
