import type { V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  AlreadyExistsError,
  ConflictError,
  DeadlineExceededError,
  NotFoundError,
  QuotaExceededError,
  UnavailableError,
} from '../../../../shared/errors.ts';
import { executeCreate, NameTakenError } from '../../../../shared/executors/create.ts';
import { destroyInstance, dropKept } from '../../../../shared/executors/destroy.ts';
import { listDestroyed } from '../../../../shared/executors/list-destroyed.ts';
import { restoreInstance, type RestoreContext } from '../../../../shared/executors/restore.ts';
import { runSweep } from '../../../../shared/executors/run-sweep.ts';
import { shareInstance } from '../../../../shared/executors/share.ts';
import { DISK_LABELS } from '../../../../shared/instances/metadata.ts';
import type { InstanceRecord } from '../../../../shared/model/record.ts';
import { planCreate } from '../../../../shared/plans/create-plan.ts';
import { planRestore } from '../../../../shared/plans/restore.ts';
import { accessAs } from '../../fakes/access.ts';
import type { Fault } from '../../fakes/faults.ts';
import { caller, config, GRACE_MS, leftovers, NOTHING, template, world } from '../../fakes/world.ts';

const WINDOW_MS = 86_400_000;
const LOCK_MS = 60_000;
const ADA = 'ada@example.com';
const BOB = 'bob@example.com';
const ADMIN = 'root@example.com';
const ADA_HASH = '3ca93ad87e0bb737e653b66ad67731e86bbc050f'; // sha1 of ada@example.com
const START = Date.parse('2026-11-25T12:00:00.000Z'); // the fake clock's

type World = ReturnType<typeof world>;

/** `w`'s context for `email`, with a day's restore window. */
const as = (w: World, email = ADA, subject = '1'): RestoreContext & World['context'] => ({
  ...w.context,
  caller: { email, subject, kind: 'user' },
  restoreWindowMs: WINDOW_MS,
});

async function create(w: World, email = ADA, idempotencyKey?: string): Promise<string> {
  const plan = planCreate({
    config,
    template,
    caller: { ...caller(email), subject: '1' },
    request: { wait: true, waitMs: 60_000, ...(idempotencyKey ? { idempotencyKey } : {}) },
    nowMs: w.clock.now(),
    random: w.random,
  });
  return (await executeCreate(as(w, email), plan)).name;
}

/** A restore as the create function's handler runs it: the plan rendered from the record restore reads. */
async function restore(w: World, name: string, options: { email?: string; wait?: boolean; waitMs?: number } = {}) {
  const email = options.email ?? ADA;
  const context = as(w, email, email === ADMIN ? '9' : email === ADA ? '1' : '2');
  return await restoreInstance(context, {
    name,
    plan: (record) =>
      planRestore({
        config,
        template,
        record,
        caller: context.caller,
        request: { name, wait: options.wait ?? true, waitMs: options.waitMs ?? 60_000 },
        nowMs: w.clock.now(),
        random: w.random,
      }),
  });
}

/** What a restore must leave as it found it when it fails: no Deployment, no slots, the kept disk's labels and the destroyed record. */
function restorable(w: World, name: string) {
  const record = w.cluster.records.get(name);
  return {
    deployments: [...w.cluster.deployments.keys()],
    leases: [...w.cluster.leases.keys()],
    disk: w.disks.disks.get(name)?.labels,
    record: record && { spec: record.spec, status: record.status },
  };
}

/** The labels of a disk of ada's instance `name`, with the time of its destroy when kept. */
const diskLabels = (name: string, destroyedAtSeconds?: number) => ({
  allocator: 'syncbased',
  'allocator-owner-hash': ADA_HASH,
  'allocator-instance': name,
  ...(destroyedAtSeconds === undefined ? {} : { 'allocator-destroyed-at': String(destroyedAtSeconds) }),
});

/** ada's instance `name` as create recorded it at the fake clock's start, with `key`'s hash when given. */
function spec(name: string, extra: Partial<InstanceRecord['spec']> = {}): InstanceRecord['spec'] {
  return {
    owner: { email: ADA, subject: '1' },
    collaborators: [],
    parameters: {},
    mountName: `/ns/allocated/${name}`,
    version: 'v1',
    createdAt: '2026-11-25T12:00:00.000Z',
    expiresAt: '2026-11-25T13:00:00.000Z',
    replicas: 1,
    disk: { name, zone: 'us-central1-c', pooled: false },
    ...extra,
  };
}

const metadata = (name: string) => ({
  name,
  uid: expect.any(String) as string,
  resourceVersion: expect.any(String) as string,
  creationTimestamp: '2026-11-25T12:00:00.000Z',
  labels: { 'allocator.dev/allocator': 'syncbased', 'allocator.dev/owner-hash': ADA_HASH, 'allocator.dev/instance': name },
});

describe('destroy within the restore window', () => {
  it('keeps the disk, labelled with the time of the destroy, and the record, destroyed with that time; lets the slots go', async () => {
    const w = world();
    const name = await create(w, ADA, 'k');
    const keyHash = w.cluster.records.get(name)?.spec.keyHash;
    const disk = w.disks.disks.get(name);
    w.clock.advance(1_234);
    const result = await destroyInstance(as(w), { name });
    expect(result).toEqual({ name, destroyed: true, restorableUntil: '2026-11-26T12:00:01.000Z' });
    expect(leftovers(w)).toEqual({ deployments: [], leases: [], disks: [name] });
    expect(w.disks.disks.get(name)?.labels).toEqual(diskLabels(name, START / 1000 + 1));
    expect(w.disks.disks.get(name)?.creationTimestamp).toBe(disk?.creationTimestamp);
    expect(keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(w.cluster.records.get(name)).toEqual({
      apiVersion: 'allocator.dev/v1',
      kind: 'Instance',
      metadata: metadata(name),
      spec: spec(name, { keyHash }),
      status: { phase: 'destroyed', destroyedAt: '2026-11-25T12:00:01.000Z' },
    });
  });

  it('deletes everything with `now`, and without a window', async () => {
    const w = world();
    const first = await create(w);
    expect(await destroyInstance(as(w), { name: first, now: true })).toEqual({ name: first, destroyed: true });
    expect(leftovers(w)).toEqual(NOTHING);
    const second = await create(w);
    expect(await destroyInstance(w.context, { name: second })).toEqual({ name: second, destroyed: true });
    expect(leftovers(w)).toEqual(NOTHING);
    expect([...w.cluster.records.keys()]).toEqual([]);
  });

  it('answers a destroy of a kept instance as the first did, from its read: its disk, its window and its record as they were', async () => {
    const w = world();
    const name = await create(w);
    const first = await destroyInstance(as(w), { name });
    const kept = { disk: w.disks.disks.get(name), record: w.cluster.records.get(name) };
    w.clock.advance(60_000);
    expect(await destroyInstance(as(w), { name })).toEqual(first);
    // Nothing was held or written: the record's resourceVersion is the one the first destroy left.
    expect({ disk: w.disks.disks.get(name), record: w.cluster.records.get(name) }).toEqual(kept);
    expect((await listDestroyed(as(w), { all: false })).map((d) => d.name)).toEqual([name]);
  });

  it('deletes a kept instance for good with `now`: its disk and its record, for its owner or an admin, never a collaborator', async () => {
    const w = world();
    const name = await create(w);
    await shareInstance(accessAs(w, caller(ADA)), { name, emails: [BOB] });
    await destroyInstance(as(w), { name });
    await expect(destroyInstance(as(w, BOB, '2'), { name, now: true })).rejects.toThrow(NotFoundError);
    expect(w.disks.disks.has(name)).toBe(true);
    expect(await destroyInstance(as(w), { name, now: true })).toEqual({ name, destroyed: true });
    expect(leftovers(w)).toEqual(NOTHING);
    expect([...w.cluster.records.keys()]).toEqual([]);
    await expect(restore(w, name)).rejects.toThrow(`no destroyed instance ${name} can be restored`);
    await expect(destroyInstance(as(w), { name, now: true })).rejects.toThrow(NotFoundError);

    const other = await create(w);
    await destroyInstance(as(w), { name: other });
    expect(await destroyInstance(as(w, ADMIN, '9'), { name: other, now: true })).toEqual({ name: other, destroyed: true });
    expect(leftovers(w)).toEqual(NOTHING);
  });

  it('deletes a kept instance past its window, not yet swept, for good rather than keep it anew', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    w.clock.advance(WINDOW_MS);
    expect(await destroyInstance(as(w), { name })).toEqual({ name, destroyed: true });
    expect(leftovers(w)).toEqual(NOTHING);
    expect([...w.cluster.records.keys()]).toEqual([]);
  });

  it('labels the disk again when its labels changed since the read (a stale fingerprint)', async () => {
    const w = world();
    const name = await create(w);
    const disk = w.disks.disks.get(name);
    if (disk) w.disks.disks.set(name, { ...disk, labelFingerprint: 'changed-meanwhile' });
    w.disks.faults.inject({ method: 'getDisk', when: 'before', error: () => new UnavailableError('down') }); // the teardown's first read
    const result = await destroyInstance(as(w), { name });
    expect(w.disks.disks.get(name)?.labels[DISK_LABELS.destroyedAt]).toBe(
      String((Date.parse(result.restorableUntil ?? '') - WINDOW_MS) / 1000),
    );
  });
});

describe('restore', () => {
  it('makes the instance again on the same disk, with its name, mount name and owner, new slots and a fresh lifetime; its record runs again', async () => {
    const w = world();
    const name = await create(w, ADA, 'k');
    await destroyInstance(as(w), { name });
    w.clock.advance(3_600_000);
    const instance = await restore(w, name);
    expect(instance).toEqual({
      name,
      owner: ADA,
      mountName: `/ns/allocated/${name}`,
      accessList: { In: [ADA, ADMIN] },
      creationTime: expect.stringMatching(/^2026-11-25T13:00:0\d\.\d{3}Z$/) as string,
      replicas: 1,
      readyReplicas: 1,
      version: 'v1',
      disk: name,
      expiresAt: expect.stringMatching(/^2026-11-25T14:00:0\d\.\d{3}Z$/) as string,
      parameters: {},
      state: 'ready',
      problems: [],
      collaborators: [],
      endpoints: [],
    });
    // A new life: its own creation time and expiry, an hour on; the create's key is not carried over; no destroy time.
    expect(Date.parse(instance.expiresAt ?? '') - Date.parse(instance.creationTime)).toBe(3_600_000);
    expect(w.cluster.records.get(name)).toEqual({
      apiVersion: 'allocator.dev/v1',
      kind: 'Instance',
      metadata: metadata(name),
      spec: spec(name, { createdAt: instance.creationTime, expiresAt: instance.expiresAt ?? '' }),
      status: { phase: 'running' },
    });
    expect(JSON.parse(JSON.stringify(w.cluster.records.get(name)?.status))).toEqual({ phase: 'running' });
    expect(w.cluster.deployments.get(name)?.metadata?.annotations?.['allocator.dev/owner-sub']).toBe('1');
    expect(w.disks.disks.get(name)?.labels).toEqual(diskLabels(name));
    expect(
      [...w.cluster.leases.values()]
        .map((lease) => ({
          name: lease.metadata?.name,
          owners: lease.metadata?.ownerReferences?.map((o) => `${o.kind}/${o.name}/${o.uid}`),
        }))
        .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '')),
    ).toEqual([
      { name: expect.stringMatching(/^syncbased-g-[0-2]$/) as string, owners: undefined },
      { name: `syncbased-u-${ADA_HASH}-0`, owners: undefined },
    ]);
    expect(w.events).toEqual([]);
  });

  it("lets an admin restore anyone's instance, which stays its owner's", async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const instance = await restore(w, name, { email: ADMIN });
    expect(instance.owner).toBe(ADA);
    expect(w.cluster.deployments.get(name)?.metadata?.annotations?.['allocator.dev/owner-sub']).toBe('1');
    expect(w.cluster.records.get(name)?.spec.owner).toEqual({ email: ADA, subject: '1' });
  });

  it.each([
    [
      'someone else',
      async (w: World, name: string) => await restore(w, name, { email: 'eve@example.com' }),
      (name: string) => `no destroyed instance ${name} can be restored`,
    ],
    [
      'past the window, naming until when',
      async (w: World, name: string) => (w.clock.advance(WINDOW_MS), await restore(w, name)),
      (name: string) => `instance ${name} could be restored until 2026-11-26T12:00:00.000Z; its disk is deleted`,
    ],
  ])('is a 404 for %s, and touches nothing', async (_label, attempt, message) => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const before = restorable(w, name);
    const refused = attempt(w, name);
    await expect(refused).rejects.toThrow(NotFoundError);
    await expect(refused).rejects.toThrow(message(name));
    expect(restorable(w, name)).toEqual(before);
  });

  it('is the 404 of a stranger for a collaborator, who may not restore (nor see a destroyed instance), and touches nothing', async () => {
    const w = world();
    const name = await create(w);
    await shareInstance(accessAs(w, caller(ADA)), { name, emails: [BOB] });
    await destroyInstance(as(w), { name });
    expect(w.cluster.records.get(name)?.spec.collaborators).toEqual([BOB]);
    const before = restorable(w, name);
    const refused = restore(w, name, { email: BOB });
    await expect(refused).rejects.toThrow(NotFoundError);
    await expect(refused).rejects.toThrow(`no destroyed instance ${name} can be restored`);
    expect(restorable(w, name)).toEqual(before);
    expect(await listDestroyed(as(w, BOB, '2'), { all: false })).toEqual([]);
  });

  it('is a 404 after a destroy with `now`, and after the sweep past the window', async () => {
    const w = world();
    const first = await create(w);
    await destroyInstance(as(w), { name: first, now: true });
    await expect(restore(w, first)).rejects.toThrow(`no destroyed instance ${first} can be restored`);
    const second = await create(w);
    await destroyInstance(as(w), { name: second });
    w.clock.advance(WINDOW_MS);
    const swept = await runSweep(as(w), { dryRun: false });
    expect(swept.orphanDisks.map((d) => d.name)).toEqual([second]);
    expect(leftovers(w)).toEqual(NOTHING);
    expect([...w.cluster.records.keys()]).toEqual([]);
    await expect(restore(w, second)).rejects.toThrow(`no destroyed instance ${second} can be restored`);
  });

  it('is a 409 ALREADY_EXISTS once restored, and the second of two restores of one name is a 409', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const [first, second] = await Promise.allSettled([restore(w, name), restore(w, name)]);
    expect(first.status).toBe('fulfilled');
    expect(second).toMatchObject({ status: 'rejected', reason: { status: 409 } });
    const again = restore(w, name);
    await expect(again).rejects.toThrow(AlreadyExistsError);
    await expect(again).rejects.toMatchObject({
      status: 409,
      statusName: 'ALREADY_EXISTS',
      message: `instance ${name} exists (restored already?); there is nothing to restore`,
    });
    expect(w.cluster.deployments.size).toBe(1);
    expect(w.cluster.records.get(name)?.status).toEqual({ phase: 'running' });
  });

  it('is the 409 of the hold while another restore holds the record, and takes over once its deadline passed', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const destroyed = w.cluster.records.get(name)!;
    // As a restore that crashed after entering left it.
    const operation = { kind: 'restore' as const, holder: 'restore/crashed', deadline: new Date(w.clock.now() + LOCK_MS).toISOString() };
    w.cluster.records.set(name, {
      ...destroyed,
      status: { ...destroyed.status, phase: 'restoring', operation: { ...operation, from: 'destroyed' } },
    });
    const refused = restore(w, name);
    await expect(refused).rejects.toThrow(AbortedError);
    await expect(refused).rejects.toThrow(`a restore of ${name} is in progress; retry when it is done`);
    expect(leftovers(w)).toEqual({ deployments: [], leases: [], disks: [name] });
    w.clock.advance(LOCK_MS + 1);
    await expect(restore(w, name)).resolves.toMatchObject({ name, state: 'ready' });
    expect(w.cluster.records.get(name)?.status).toEqual({ phase: 'running' });
    expect(w.events).toEqual([`taking over ${name} from an interrupted restore`]);
  });

  it('applies the limit: a 429, and the instance can be restored once there is room', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const other = await create(w); // ada's one slot
    const before = restorable(w, name);
    await expect(restore(w, name)).rejects.toThrow(QuotaExceededError);
    expect(restorable(w, name)).toEqual(before);
    await destroyInstance(as(w), { name: other, now: true });
    await expect(restore(w, name)).resolves.toMatchObject({ name });
  });

  it('clears a slot its destroy left, rather than holding two for one instance (or none free at its limit)', async () => {
    const w = world();
    const name = await create(w);
    // A 409 to the slot's delete, conditional on its uid, reads as a slot taken by another since: the destroy leaves it.
    w.cluster.faults.inject({ method: 'deleteLease', when: 'before', nth: 1, error: () => new ConflictError('injected') });
    await expect(destroyInstance(as(w), { name })).resolves.toMatchObject({ destroyed: true });
    const held = () => [...w.cluster.leases.values()].filter((lease) => lease.metadata?.labels?.['allocator.dev/instance'] === name);
    expect(held()).toHaveLength(1);
    await expect(restore(w, name)).resolves.toMatchObject({ name }); // ada's limit is 1
    expect(
      held()
        .map((lease) => lease.metadata?.labels?.['allocator.dev/slot'])
        .sort(),
    ).toEqual(['global', 'user']);
    expect(w.events).toContainEqual(`clearing 1 slot(s) left by the destroy of ${name}`);
  });

  const faults: [string, 'cluster' | 'disks', Omit<Fault, 'error'>][] = [
    ['the record cannot be read', 'cluster', { method: 'readRecord', when: 'before' }],
    ['the hold cannot be entered', 'cluster', { method: 'replaceRecord', when: 'before' }],
    ['the disk cannot be read', 'disks', { method: 'getDisk', when: 'before' }],
    ['a slot is refused', 'cluster', { method: 'createLease', when: 'before' }],
    ["a slot's answer is lost", 'cluster', { method: 'createLease', when: 'after' }],
    ['the Deployment is refused', 'cluster', { method: 'createDeployment', when: 'before' }],
    ["the Deployment's answer is lost", 'cluster', { method: 'createDeployment', when: 'after' }],
  ];
  it.each(faults)('leaves it destroyed and restorable again, nothing half-made, when %s', async (_label, adapter, fault) => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const before = restorable(w, name);
    w[adapter].faults.inject({ ...fault, error: () => new UnavailableError('injected') });
    await expect(restore(w, name)).rejects.toThrow(UnavailableError);
    // A hold whose failure could not be written ends at its deadline: the record reads destroyed from then on.
    w.clock.advance(LOCK_MS + 1);
    expect({ ...restorable(w, name), record: undefined }).toEqual({ ...before, record: undefined });
    expect(await listDestroyed(as(w), { all: false })).toEqual([expect.objectContaining({ name })]);
    await expect(restore(w, name)).resolves.toMatchObject({ name, state: 'ready' });
    expect(w.cluster.records.get(name)?.status).toEqual({ phase: 'running' });
  });

  it("keeps the slots when the Deployment's answer is lost and its undo cannot remove it: the instance that stands holds them", async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    w.cluster.faults.inject({ method: 'createDeployment', when: 'after', error: () => new UnavailableError('injected') });
    // The first read is the transition's; the second, the Deployment's undo.
    w.cluster.faults.inject({ method: 'readDeployment', when: 'before', nth: 2, error: () => new UnavailableError('injected') });
    await expect(restore(w, name)).rejects.toThrow(UnavailableError);
    expect(w.events).toContainEqual(expect.stringMatching(new RegExp(`^could not undo the Deployment ${name}`)));
    expect(w.events).toContainEqual(`kept the slots of ${name}: its Deployment could not be removed`);
    expect(w.cluster.deployments.has(name)).toBe(true);
    const kinds = [...w.cluster.leases.values()]
      .filter((lease) => lease.metadata?.labels?.['allocator.dev/instance'] === name)
      .map((lease) => lease.metadata?.labels?.['allocator.dev/slot'])
      .sort();
    expect(kinds).toEqual(['global', 'user']);
    expect(w.cluster.records.get(name)?.status.phase).toBe('running');
  });

  it.each([
    ['the new spec', 2],
    ['the running status', 3],
  ])('writes the record once an outage passes when %s cannot be written at first', async (_what, nth) => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    w.cluster.faults.inject({ method: 'replaceRecord', when: 'before', nth, error: () => new UnavailableError('injected') });
    await expect(restore(w, name)).resolves.toMatchObject({ name, state: 'ready' });
    expect(w.cluster.records.get(name)?.status).toEqual({ phase: 'running' });
  });

  it.each([
    ['the new spec', 2],
    ['the running status', 3],
  ])(
    'answers the restore when %s cannot be written through an outage, and the record rolls forward at its deadline',
    async (_what, nth) => {
      const w = world();
      const name = await create(w);
      await destroyInstance(as(w), { name });
      // Every try of that write fails: the first and the four after it.
      for (let k = 0; k < 5; k += 1)
        w.cluster.faults.inject({ method: 'replaceRecord', when: 'before', nth, error: () => new UnavailableError('injected') });
      await expect(restore(w, name)).resolves.toMatchObject({ name, state: 'ready' });
      expect(w.events).toContainEqual(
        expect.stringMatching(new RegExp(`^restore of ${name} is done, but its record could not be written`)),
      );
      // Held until its deadline: a second operation waits; then the Deployment says where it is.
      await expect(restore(w, name)).rejects.toThrow(/in progress/);
      w.clock.advance(LOCK_MS + 1);
      await expect(restore(w, name)).rejects.toThrow(`instance ${name} exists (restored already?)`);
      expect(await listDestroyed(as(w), { all: false })).toEqual([]);
    },
  );

  it("answers the restore when the running status's answer is lost: it was written", async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    w.cluster.faults.inject({ method: 'replaceRecord', when: 'after', nth: 3, error: () => new UnavailableError('injected') });
    await expect(restore(w, name)).resolves.toMatchObject({ name });
    expect(w.cluster.records.get(name)?.status).toEqual({ phase: 'running' });
    await expect(restore(w, name)).rejects.toThrow(`instance ${name} exists (restored already?)`);
  });

  it('still restores when the disk keeps the time of its destroy (a label is harmless)', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const kept = w.disks.disks.get(name)?.labels;
    w.disks.faults.inject({ method: 'setLabels', when: 'before', error: () => new UnavailableError('injected') });
    await expect(restore(w, name)).resolves.toMatchObject({ name, state: 'ready' });
    expect(w.disks.disks.get(name)?.labels).toEqual(kept);
    expect(w.cluster.records.get(name)?.status).toEqual({ phase: 'running' });
    expect(w.events).toEqual([`could not clear the destroy's time on disk ${name}: injected`]);
  });

  it('undoes every step when the instance is not ready in time', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const before = restorable(w, name);
    w.cluster.readyAfterReads = Number.POSITIVE_INFINITY;
    await expect(restore(w, name, { waitMs: 5_000 })).rejects.toThrow(DeadlineExceededError);
    expect({ ...restorable(w, name), record: undefined }).toEqual({ ...before, record: undefined });
    expect(w.cluster.records.get(name)?.status).toEqual(before.record?.status);
  });

  it('is a 404 when the disk is gone, and drops the record', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    w.disks.disks.delete(name);
    await expect(restore(w, name)).rejects.toThrow(`instance ${name} cannot be restored: its disk is gone`);
    expect(leftovers(w)).toEqual(NOTHING);
    expect([...w.cluster.records.keys()]).toEqual([]);
    await expect(restore(w, name)).rejects.toThrow(`no destroyed instance ${name} can be restored`);
  });
});

describe('an instance destroyed by a release before records', () => {
  /** Its restore Lease, as that release wrote it, for ada's instance `name` destroyed at the fake clock's start. */
  function legacyLease(name: string): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: `${name}-restore`,
        labels: {
          'allocator.dev/allocator': 'syncbased',
          'allocator.dev/owner-hash': ADA_HASH,
          'allocator.dev/instance': name,
          'allocator.dev/restore-record': 'true',
        },
        annotations: {
          'allocator.dev/owner': ADA,
          'allocator.dev/owner-sub': '1',
          'allocator.dev/mount-name': `/old/root/${name}`,
          'allocator.dev/access-list': `{"In":["${ADA}","${BOB}","${ADMIN}"]}`,
          'allocator.dev/version': 'v0',
          'allocator.dev/disk': name,
          'allocator.dev/created-at': '2026-11-20T09:00:00.000Z',
          'allocator.dev/replicas': '1',
          'allocator.dev/collaborators': `["${BOB}"]`,
          'allocator.dev/parameters': '{"size":"large"}',
          'allocator.dev/destroyed-at': '2026-11-25T12:00:00.000Z',
        },
      },
      spec: {},
    };
  }

  it('is carried over to a record and restored, with what the Lease kept', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    // What that release left: the kept disk and the Lease, no record.
    w.cluster.records.delete(name);
    await w.cluster.createLease(legacyLease(name));
    w.clock.advance(3_600_000);
    const instance = await restore(w, name);
    expect(instance).toMatchObject({
      name,
      owner: ADA,
      mountName: `/old/root/${name}`,
      accessList: { In: [ADA, BOB, ADMIN] },
      parameters: { size: 'large' },
      state: 'ready',
    });
    expect(w.cluster.leases.has(`${name}-restore`)).toBe(false);
    expect(w.cluster.records.get(name)).toEqual({
      apiVersion: 'allocator.dev/v1',
      kind: 'Instance',
      metadata: { ...metadata(name), creationTimestamp: '2026-11-25T13:00:00.050Z' }, // carried over when the restore came
      spec: {
        owner: { email: ADA, subject: '1' },
        collaborators: [BOB],
        parameters: { size: 'large' },
        mountName: `/old/root/${name}`,
        version: 'v0',
        createdAt: instance.creationTime,
        expiresAt: instance.expiresAt,
        disk: { name, zone: '' },
      },
      status: { phase: 'running' },
    });
    expect(w.disks.disks.get(name)?.labels).toEqual(diskLabels(name));
  });

  it('past the window is the 404 naming until when, and its Lease is gone', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    w.cluster.records.delete(name);
    await w.cluster.createLease(legacyLease(name));
    w.clock.advance(WINDOW_MS);
    await expect(restore(w, name)).rejects.toThrow(`instance ${name} could be restored until 2026-11-26T12:00:00.000Z`);
    expect(w.cluster.leases.has(`${name}-restore`)).toBe(false);
  });
});

describe('the name of a destroyed instance', () => {
  it('stays taken: a create without a key that draws it tries another; a keyed one is a 409', async () => {
    const w = world();
    const keyed = await create(w, ADA, 'k');
    await destroyInstance(as(w), { name: keyed });
    w.clock.advance(GRACE_MS * 2); // an interrupted create's leftover would be cleared by now
    await expect(create(w, ADA, 'k')).rejects.toThrow(/kept for a restore/);
    expect(w.disks.disks.get(keyed)?.labels[DISK_LABELS.destroyedAt]).toBeDefined();
    expect(w.cluster.records.get(keyed)?.status.phase).toBe('destroyed');
    const plan = planCreate({
      config,
      template,
      caller: caller(),
      request: { wait: false, waitMs: 1 },
      nowMs: w.clock.now(),
      random: () => Buffer.from(keyed.slice(-8), 'hex'),
    });
    expect(plan.name).toBe(keyed);
    await expect(executeCreate(as(w), plan)).rejects.toThrow(NameTakenError);
    expect(w.cluster.records.get(keyed)?.status.phase).toBe('destroyed');
  });
});

describe('listDestroyed', () => {
  it('shows the caller theirs within the window, newest first; all of them to an admin with `all`', async () => {
    const w = world();
    const keepingTwo = (email = ADA) => ({ ...as(w, email), keptPerUser: 2 });
    const a1 = await create(w, ADA);
    await destroyInstance(keepingTwo(), { name: a1 });
    w.clock.advance(1_000);
    const a2 = await create(w, ADA);
    await destroyInstance(keepingTwo(), { name: a2 });
    const b = await create(w, BOB);
    await destroyInstance(keepingTwo(BOB), { name: b });
    expect((await listDestroyed(as(w), { all: false })).map((d) => d.name)).toEqual([a2, a1]);
    expect(await listDestroyed(as(w, BOB), { all: false })).toEqual([
      {
        name: b,
        owner: BOB,
        mountName: `/ns/allocated/${b}`,
        destroyedAt: '2026-11-25T12:00:01.000Z',
        restorableUntil: '2026-11-26T12:00:01.000Z',
      },
    ]);
    expect((await listDestroyed(as(w, ADMIN), { all: false })).map((d) => d.name)).toEqual([]);
    expect((await listDestroyed(as(w, ADMIN), { all: true })).map((d) => d.name).sort()).toEqual([a1, a2, b].sort());
    w.clock.advance(Date.parse('2026-11-26T12:00:00.000Z') - w.clock.now());
    expect((await listDestroyed(as(w), { all: false })).map((d) => d.name)).toEqual([a2]);
  });
});

describe('the sweep', () => {
  it('destroys an expired instance as a destroy does: within a window, its disk is kept and it can be restored', async () => {
    const w = world();
    const name = await create(w);
    w.clock.advance(config.lifetime.defaultSeconds * 1000);
    const swept = await runSweep(as(w), { dryRun: false });
    expect(swept.expired.map((e) => e.name)).toEqual([name]);
    expect(leftovers(w)).toEqual({ deployments: [], leases: [], disks: [name] });
    expect(w.cluster.records.get(name)?.status).toEqual({ phase: 'destroyed', destroyedAt: '2026-11-25T13:00:00.000Z' });
    expect((await listDestroyed(as(w), { all: false })).map((d) => d.name)).toEqual([name]);
    await expect(restore(w, name)).resolves.toMatchObject({ name, state: 'ready' });
  });

  it('leaves the disk of a restore in progress alone though the window ended meanwhile: its record needs it', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    w.clock.advance(WINDOW_MS - 1_000);
    // A restore checked the window just in time and holds the record; its Deployment is still to come.
    const record = w.cluster.records.get(name)!;
    const deadline = new Date(w.clock.now() + LOCK_MS).toISOString();
    const operation = { kind: 'restore' as const, holder: 'restore/1', deadline, from: 'destroyed' as const };
    await w.cluster.replaceRecord({ ...record, status: { ...record.status, phase: 'restoring', operation } }, 'status');
    w.clock.advance(2_000);
    const swept = await runSweep(as(w), { dryRun: false });
    expect(swept.orphanDisks).toEqual([]);
    expect(leftovers(w).disks).toEqual([name]);
    expect(w.cluster.records.get(name)?.status.phase).toBe('restoring');
  });

  it('drops a kept instance only as it was read: one restored since keeps its record and its disk', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const read = w.cluster.records.get(name)!; // as the walk of the records listed it, past its window say
    await restore(w, name);
    await dropKept(as(w), read);
    expect(w.cluster.records.get(name)?.status.phase).toBe('running');
    expect(leftovers(w).disks).toEqual([name]);
  });

  it('past the window, keeps both disk and record when the record changed since it was read (its delete is refused)', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    w.clock.advance(WINDOW_MS);
    // As the API server answers a delete whose resourceVersion is no longer the record's: the orphan's, then the walk's.
    const changed = () => new ConflictError('Precondition failed: ResourceVersion in precondition: 7');
    w.cluster.faults.inject({ method: 'deleteRecord', nth: 1, when: 'before', error: changed });
    w.cluster.faults.inject({ method: 'deleteRecord', nth: 1, when: 'before', error: changed });
    const swept = await runSweep(as(w), { dryRun: false });
    expect(swept.orphanDisks).toEqual([]);
    expect(leftovers(w).disks).toEqual([name]);
    expect(w.cluster.records.get(name)?.status.phase).toBe('destroyed');
    // Read again by the next sweep, both go.
    await runSweep(as(w), { dryRun: false });
    expect(leftovers(w)).toEqual(NOTHING);
    expect(w.cluster.records.get(name)).toBeUndefined();
  });

  it('leaves a kept disk and its record alone within the window', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const record = w.cluster.records.get(name);
    w.clock.advance(WINDOW_MS - 1_000);
    const swept = await runSweep(as(w), { dryRun: false });
    expect(swept.orphanDisks).toEqual([]);
    expect(leftovers(w)).toEqual({ deployments: [], leases: [], disks: [name] });
    expect(w.cluster.records.get(name)).toEqual(record);
  });
});
