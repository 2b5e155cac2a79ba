import { readFileSync } from 'node:fs';
import { AppsV1Api, CoordinationV1Api, CustomObjectsApi, type V1Deployment, type V1Lease } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DestroyedInstance, DestroyResult, SweepReport } from '../../../shared/api-types.ts';
import { systemClock, type Clock } from '../../../shared/clock.ts';
import { loadConfig } from '../../../shared/config/load-config.ts';
import { runSweep } from '../../../shared/executors/run-sweep.ts';
import { executionContext, SWEEPER } from '../../../shared/handlers/execution-context.ts';
import type { Instance } from '../../../shared/instances/instance.ts';
import { allowedOperations, type Phase, type Role } from '../../../shared/model/transitions.ts';
import { makeCreateRuntime } from '../../../shared/runtime/create-runtime.ts';
import type { CreateRuntime } from '../../../shared/runtime/runtimes.ts';
import { startDisksEmulator, type DisksEmulator } from '../../harness/disks-emulator.ts';
import { startTokenIssuer, type TokenIssuer } from '../../harness/token-issuer.ts';
import { allocatorEnv, AUDIENCE, call, PROJECT, serveInProcess, ZONE, type FunctionUrls } from '../stack.ts';
import { createTestNamespace, testKubeConfig } from '../support.ts';

/**
 * Upgrade in place (issue 29): what the release before the Instance record
 * (cc24c0b) wrote, captured from that release's own code by
 * test/fixtures/upgrade/capture.ts, is put into a fresh namespace and disks
 * emulator as it is, and today's functions are used on it.
 *
 * The fixtures hold that release's times (a fake clock's). The allocator here
 * runs on a clock that starts a minute after the capture and goes on at the
 * real pace, as if it had been deployed over that release then: the
 * instances' expiries, the restore window, the Idempotency-Key's window, the
 * old lock's and the ticket's deaths all fall where they would. (The API
 * server's own creation times are real, later than that clock: nothing here
 * is old enough for the sweep's orphan rules, which this test does not need.)
 */

const FIXTURES = new URL('../../fixtures/upgrade/', import.meta.url);
const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;

interface Capture {
  readonly capturedAt: string;
  readonly settings: Record<string, string>;
  readonly instances: Record<'plain' | 'shared' | 'keyed' | 'suspended' | 'pooled' | 'restored' | 'swept', string>;
  readonly keys: Record<'keyed' | 'pooled', { readonly owner: string; readonly key: string }>;
}
interface DiskFixture {
  readonly name: string;
  readonly sizeGb: string;
  readonly type: string;
  readonly labels: Record<string, string>;
}
const capture = fixture<Capture>('capture.json');
const oldDeployments = fixture<V1Deployment[]>('deployments.json');
const oldLeases = fixture<V1Lease[]>('leases.json');
const oldDisks = fixture<DiskFixture[]>('disks.json');
const { plain, shared, keyed, suspended, pooled, restored, swept } = capture.instances;
const WINDOW_MS = Number(capture.settings.ALLOCATOR_RESTORE_WINDOW_SECONDS) * 1000;

const ada = 'ada@example.com';
const bob = 'bob@example.com';
const carol = 'carol@example.com';
const dave = 'dave@example.com';
const erin = 'erin@example.com';
const ADMIN = 'admin@example.com';

const annotationsOf = (name: string): Record<string, string> =>
  oldDeployments.find((deployment) => deployment.metadata?.name === name)?.metadata?.annotations ?? {};
const restoreLeaseOf = (name: string): Record<string, string> =>
  oldLeases.find((lease) => lease.metadata?.name === `${name}-restore`)?.metadata?.annotations ?? {};

interface Stack {
  readonly namespace: string;
  readonly runtime: CreateRuntime;
  readonly urls: FunctionUrls;
  readonly emulator: DisksEmulator;
  readonly issuer: TokenIssuer;
  readonly violations: readonly string[];
  stop(): Promise<void>;
}

/** As startTestStack, with the capture's settings and a clock that starts a minute after the capture. */
async function startUpgradeStack(): Promise<Stack> {
  const kubeConfig = testKubeConfig();
  const { namespace, remove } = await createTestNamespace(kubeConfig, 'upgrade');
  const issuer = await startTokenIssuer();
  const emulator = await startDisksEmulator();
  const env = allocatorEnv({ namespace, emulator, issuer, overrides: capture.settings });
  const offsetMs = Date.parse(capture.capturedAt) + 60_000 - Date.now();
  const clock: Clock = { now: () => Date.now() + offsetMs, sleep: (ms) => systemClock.sleep(ms) };
  const runtime: CreateRuntime = { ...makeCreateRuntime(loadConfig(env)), clock };
  const served = await serveInProcess(runtime);
  return {
    namespace,
    runtime,
    urls: served.urls,
    emulator,
    issuer,
    violations: served.violations,
    stop: async () => {
      await served.stop();
      await runtime.background.settled();
      await runtime.disks().close();
      await Promise.all([issuer.stop(), emulator.stop()]);
      await remove();
      if (served.violations.length > 0)
        throw new Error(`answers that /openapi.json does not describe:\n${[...new Set(served.violations)].join('\n')}`);
    },
  };
}

let stack: Stack;
const kubeConfig = testKubeConfig();
const apps = kubeConfig.makeApiClient(AppsV1Api);
const coordination = kubeConfig.makeApiClient(CoordinationV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);

/** Applies the captured objects as they are: the Deployments, then the Leases owned by them (re-linked to their new uids), then the disks. */
async function applyCaptured(): Promise<void> {
  const { namespace } = stack;
  const uids = new Map<string, string>();
  for (const deployment of oldDeployments) {
    const created = await apps.createNamespacedDeployment({ namespace, body: deployment });
    uids.set(`Deployment/${created.metadata?.name}`, created.metadata?.uid ?? '');
  }
  const owned = (lease: V1Lease) => (lease.metadata?.ownerReferences ?? []).length > 0;
  for (const lease of [...oldLeases.filter((l) => !owned(l)), ...oldLeases.filter(owned)]) {
    const ownerReferences = lease.metadata?.ownerReferences?.map((reference) => {
      const uid = uids.get(`${reference.kind}/${reference.name}`);
      if (uid === undefined)
        throw new Error(`${lease.metadata?.name} is owned by ${reference.kind}/${reference.name}, which was not captured`);
      return { ...reference, uid };
    });
    const body = ownerReferences ? { ...lease, metadata: { ...lease.metadata, ownerReferences } } : lease;
    const created = await coordination.createNamespacedLease({ namespace, body });
    uids.set(`Lease/${created.metadata?.name}`, created.metadata?.uid ?? '');
  }
  const disks = stack.runtime.disks();
  await Promise.all(
    oldDisks.map((disk) => disks.createDisk({ name: disk.name, sizeGb: Number(disk.sizeGb), type: disk.type, labels: disk.labels })),
  );
}

beforeAll(async () => {
  stack = await startUpgradeStack();
  await applyCaptured();
});
afterAll(async () => stack?.stop());

type Answer<T> = T & { error?: { code: number; status: string; message: string } };
const token = (email: string) => stack.issuer.issueIdToken({ email, audience: AUDIENCE });
const op = async <T = Instance>(url: string, email: string, body: Record<string, unknown>) =>
  await call<Answer<T>>(url, { token: token(email), body });
const list = async (email: string) =>
  (await call<Answer<{ instances: Instance[] }>>(stack.urls.list, { token: token(email), method: 'GET' })).body.instances ?? [];
const destroyedOf = async (email: string) =>
  (await call<Answer<{ destroyed: DestroyedInstance[] }>>(`${stack.urls.list}/destroyed`, { token: token(email), method: 'GET' })).body
    .destroyed ?? [];
const destroy = async (email: string, name: string, now?: boolean) =>
  await op<DestroyResult>(stack.urls.destroy, email, { name, ...(now ? { now } : {}) });
const keyedCreate = async (email: string, key: string) => {
  const response = await fetch(stack.urls.create, {
    method: 'POST',
    headers: { authorization: `Bearer ${token(email)}`, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ wait: false }),
  });
  return { status: response.status, body: (await response.json()) as Answer<Instance> };
};

interface RecordSeen {
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    owner: { email: string; subject?: string };
    creator?: string;
    collaborators: string[];
    parameters: Record<string, string>;
    mountName: string;
    createdAt: string;
    expiresAt?: string;
    keyHash?: string;
    disk: { name: string; zone: string };
  };
  status?: { phase?: string; destroyedAt?: string; operation?: unknown };
}
const records = async (): Promise<RecordSeen[]> =>
  (
    (await custom.listNamespacedCustomObject({
      group: 'allocator.dev',
      version: 'v1',
      plural: 'instances',
      namespace: stack.namespace,
    })) as { items: RecordSeen[] }
  ).items;
const record = async (name: string) => (await records()).find((r) => r.metadata.name === name);
const leaseNames = async () => (await coordination.listNamespacedLease({ namespace: stack.namespace })).items.map((l) => l.metadata?.name);
const deployments = async () => (await apps.listNamespacedDeployment({ namespace: stack.namespace })).items;
const disk = (name: string) => stack.emulator.disks({ project: PROJECT, zone: ZONE }).find((d) => d.name === name);

/** What an instance made before records must read as in its record: what its Deployment said. */
const recordFrom = (name: string, collaborators: string[] = []) => {
  const annotations = annotationsOf(name);
  return {
    spec: {
      owner: { email: annotations['allocator.dev/owner'], subject: annotations['allocator.dev/owner-sub'] },
      collaborators,
      parameters: {},
      mountName: annotations['allocator.dev/mount-name'],
      createdAt: annotations['allocator.dev/created-at'],
      disk: { name, zone: ZONE },
    },
  };
};
const operationsFor = (phase: Phase, role: Role) => allowedOperations(phase, { role, boundToken: true });

describe('upgrade in place from cc24c0b, on the captured objects of that release', () => {
  it('lists the old instances to their owners and collaborators, with the operations each may run, writing nothing', async () => {
    const view = (i: Instance) => ({ name: i.name, owner: i.owner, sharedWithMe: i.sharedWithMe, operations: i.operations });
    expect((await list(ada)).map(view)).toEqual([
      { name: shared, owner: ada, sharedWithMe: false, operations: operationsFor('running', 'owner') },
      { name: plain, owner: ada, sharedWithMe: false, operations: operationsFor('running', 'owner') },
    ]);
    expect((await list(bob)).map(view)).toEqual([
      { name: suspended, owner: bob, sharedWithMe: false, operations: operationsFor('suspended', 'owner') },
      { name: keyed, owner: bob, sharedWithMe: false, operations: operationsFor('running', 'owner') },
      { name: shared, owner: ada, sharedWithMe: true, operations: operationsFor('running', 'collaborator') },
    ]);
    expect((await list(carol)).map(view)).toEqual([
      { name: pooled, owner: carol, sharedWithMe: false, operations: operationsFor('running', 'owner') },
    ]);
    expect(await list(dave)).toEqual([]);
    expect((await list(bob)).find((i) => i.name === shared)?.mountName).toBe(annotationsOf(shared)['allocator.dev/mount-name']);
    expect(await records()).toEqual([]);
  });

  it('lists an old destroyed instance to its owner, restorable, before anything touches it', async () => {
    const at = restoreLeaseOf(restored)['allocator.dev/destroyed-at'] ?? '';
    expect(await destroyedOf(dave)).toEqual([
      {
        name: restored,
        owner: dave,
        mountName: restoreLeaseOf(restored)['allocator.dev/mount-name'],
        destroyedAt: at,
        restorableUntil: new Date(Date.parse(at) + WINDOW_MS).toISOString(),
      },
    ]);
  });

  it('suspends, resumes, extends, shares, transfers and destroys an old instance; its record appears on the first touch', async () => {
    const suspendedNow = await op(`${stack.urls.destroy}/suspend`, ada, { name: plain });
    expect(suspendedNow.status).toBe(200);
    expect(await record(plain)).toMatchObject({
      ...recordFrom(plain),
      spec: { ...recordFrom(plain).spec, expiresAt: annotationsOf(plain)['allocator.dev/expires-at'] },
      status: { phase: 'suspended' },
    });
    expect((await record(plain))?.status?.operation).toBeUndefined();

    const resumed = await op(`${stack.urls.create}/resume`, ada, { name: plain });
    expect(resumed.status).toBe(200);
    expect(resumed.body.state).toBe('ready');
    expect((await record(plain))?.status?.phase).toBe('running');

    const extended = await op(`${stack.urls.create}/extend`, ada, { name: plain, lifetimeSeconds: 7200 });
    expect(extended.status).toBe(200);
    expect((await record(plain))?.spec.expiresAt).toBe(extended.body.expiresAt);

    const shared_ = await op(`${stack.urls.create}/share`, ada, { name: plain, emails: [carol] });
    expect(shared_.status).toBe(200);
    expect((await record(plain))?.spec.collaborators).toEqual([carol]);
    expect((await list(carol)).map((i) => [i.name, i.sharedWithMe])).toContainEqual([plain, true]);

    const given = await op(`${stack.urls.create}/transfer`, ada, { name: plain, to: erin });
    expect(given.status).toBe(200);
    expect(await record(plain)).toMatchObject({ spec: { owner: { email: erin }, creator: ada }, status: { phase: 'running' } });
    expect((await list(ada)).map((i) => i.name)).toEqual([shared]);
    expect((await list(erin)).map((i) => i.name)).toEqual([plain]);

    const gone = await destroy(erin, plain);
    expect(gone.status).toBe(200);
    expect(gone.body.restorableUntil).toBeDefined();
    expect((await record(plain))?.status?.phase).toBe('destroyed');
    expect((await deployments()).map((d) => d.metadata?.name)).not.toContain(plain);
    expect(disk(plain)?.labels?.['allocator-destroyed-at']).toBeDefined();
  });

  it("writes a shared old instance's record, with its collaborators, on a collaborator's first touch", async () => {
    const extended = await op(`${stack.urls.create}/extend`, bob, { name: shared, lifetimeSeconds: 3600 });
    expect(extended.status).toBe(200);
    expect(await record(shared)).toMatchObject({ ...recordFrom(shared, [bob]), status: { phase: 'running' } });
  });

  it('resumes an old suspended instance whose lock a crashed resume of that release left', async () => {
    const resumed = await op(`${stack.urls.create}/resume`, bob, { name: suspended, wait: false });
    expect(resumed.status).toBe(200);
    expect(await record(suspended)).toMatchObject({ ...recordFrom(suspended), status: { phase: 'running' } });
    expect(await leaseNames()).toContain(`${suspended}-lock`); // left for the sweep
  });

  it('restores an old destroyed instance: its restore Lease becomes a record and is gone, and it comes back on its disk', async () => {
    const before = disk(restored);
    const back = await op(`${stack.urls.create}/restore`, dave, { name: restored });
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({
      name: restored,
      owner: dave,
      mountName: restoreLeaseOf(restored)['allocator.dev/mount-name'],
      state: 'ready',
    });
    expect(await leaseNames()).not.toContain(`${restored}-restore`);
    expect(await record(restored)).toMatchObject({
      spec: { owner: { email: dave, subject: restoreLeaseOf(restored)['allocator.dev/owner-sub'] }, disk: { name: restored } },
      status: { phase: 'running' },
    });
    expect(disk(restored)?.id).toBe(before?.id);
    expect(disk(restored)?.labels?.['allocator-destroyed-at']).toBeUndefined();
    const slots = (await coordination.listNamespacedLease({ namespace: stack.namespace })).items.filter(
      (lease) => lease.metadata?.labels?.['allocator.dev/instance'] === restored,
    );
    expect(slots.map((lease) => lease.metadata?.labels?.['allocator.dev/slot']).sort()).toEqual(['global', 'user']);
    expect(await destroyedOf(dave)).toEqual([]);
  });

  it('answers a keyed create retried with its old key with the old instance, pooled or not', async () => {
    const before = (await deployments()).length;
    const again = await keyedCreate(capture.keys.keyed.owner, capture.keys.keyed.key);
    expect([200, 201]).toContain(again.status);
    expect(again.body.name).toBe(keyed);
    const pooledAgain = await keyedCreate(capture.keys.pooled.owner, capture.keys.pooled.key);
    expect([200, 201]).toContain(pooledAgain.status);
    expect(pooledAgain.body.name).toBe(pooled);
    expect((await deployments()).length).toBe(before);
  });

  it('claims one of the old free pool disks for a new create', async () => {
    const free = oldDisks.filter((d) => d.labels['allocator-pool-state'] === 'free').map((d) => d.name);
    const made = await op(stack.urls.create, ada, { wait: false });
    expect(made.status).toBe(201);
    expect(free).toContain(made.body.name);
    await stack.runtime.background.settled();
  });

  let sweep: SweepReport | undefined;
  const lines: string[] = [];
  it('sweeps: carries an untouched restore Lease over, deletes the expired lock Lease and the dead ticket, and destroys nothing live', async () => {
    const live = (await deployments())
      .map((d) => ({ name: d.metadata?.name, uid: d.metadata?.uid }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    const context = await executionContext(stack.runtime, { caller: SWEEPER, report: (line) => void lines.push(line) });
    sweep = await runSweep(context, { dryRun: false });
    expect(sweep.failed).toEqual([]);
    expect({ expired: sweep.expired, disks: sweep.orphanDisks, deployments: sweep.orphanDeployments, slots: sweep.orphanSlots }).toEqual({
      expired: [],
      disks: [],
      deployments: [],
      slots: [],
    });
    const leases = await leaseNames();
    expect(leases).not.toContain(`${swept}-restore`);
    expect(leases).not.toContain(`${suspended}-lock`);
    expect(leases.filter((name) => name?.endsWith('-ticket'))).toEqual([]);
    const oldTickets = oldLeases
      .filter((lease) => lease.metadata?.labels?.['allocator.dev/ticket'] !== undefined)
      .map((l) => l.metadata?.name);
    expect(oldTickets).toHaveLength(1);
    expect(lines).toContain(`delete the queue ticket ${oldTickets[0]} of a release before queued records`);
    expect(await record(swept)).toMatchObject({
      spec: { owner: { email: erin }, mountName: restoreLeaseOf(swept)['allocator.dev/mount-name'] },
      status: { phase: 'destroyed', destroyedAt: restoreLeaseOf(swept)['allocator.dev/destroyed-at'] },
    });
    expect((await destroyedOf(erin)).map((d) => d.name).sort()).toEqual([plain, swept].sort());
    expect(disk(swept)?.labels?.['allocator-destroyed-at']).toBeDefined();
    // The live instances are as they were, each with its two slots.
    expect(
      (await deployments())
        .map((d) => ({ name: d.metadata?.name, uid: d.metadata?.uid }))
        .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    ).toEqual(live);
    const all = (await coordination.listNamespacedLease({ namespace: stack.namespace })).items;
    for (const { name } of live) {
      const kinds = all
        .filter((l) => l.metadata?.labels?.['allocator.dev/instance'] === name)
        .map((l) => l.metadata?.labels?.['allocator.dev/slot']);
      expect(kinds.filter((k) => k === 'user' || k === 'global').sort(), `the slots of ${name}`).toEqual(['global', 'user']);
    }
    for (const r of await records()) expect(r.status?.operation, `the hold on ${r.metadata.name}`).toBeUndefined();
  });

  it('writes, in that sweep, the record of each old instance nothing touched, as its Deployment says', async () => {
    expect(sweep).toBeDefined();
    expect(await record(keyed)).toMatchObject({
      ...recordFrom(keyed),
      spec: { ...recordFrom(keyed).spec, keyHash: annotationsOf(keyed)['allocator.dev/idempotency-key-hash'] },
      status: { phase: 'running' },
    });
    expect(await record(pooled)).toMatchObject({ ...recordFrom(pooled), status: { phase: 'running' } });
  });

  it('leaves nothing but the pool once everything is destroyed and the restore window has passed', async () => {
    const names = (await deployments()).map((d) => d.metadata?.name ?? '');
    const owners: Record<string, string> = { [shared]: ada, [keyed]: bob, [suspended]: bob, [pooled]: carol, [restored]: dave };
    for (const name of names) {
      const answer = await destroy(owners[name] ?? ADMIN, name, true);
      expect(answer.status, `destroy ${name}`).toBe(200);
    }
    expect(await deployments()).toEqual([]);
    const context = await executionContext(stack.runtime, { caller: SWEEPER, report: (line) => void lines.push(line) });
    const later: Clock = { now: () => stack.runtime.clock.now() + WINDOW_MS + 60_000, sleep: context.clock.sleep };
    const past = await runSweep({ ...context, clock: later }, { dryRun: false });
    expect(past.failed).toEqual([]);
    await stack.runtime.background.settled();
    expect(await leaseNames()).toEqual([]);
    expect(await records()).toEqual([]);
    const left = stack.emulator.disks();
    expect(left.map((d) => d.labels?.['allocator-pool-state'])).toEqual(['free', 'free']);
  });
});
