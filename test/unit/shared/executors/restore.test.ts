import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  AlreadyExistsError,
  DeadlineExceededError,
  NotFoundError,
  QuotaExceededError,
  UnavailableError,
} from '../../../../shared/errors.ts';
import { executeCreate, NameTakenError } from '../../../../shared/executors/create.ts';
import { destroyInstance } from '../../../../shared/executors/destroy.ts';
import { listDestroyed } from '../../../../shared/executors/list-destroyed.ts';
import { executeRestore, findRestoreRecord, type RestoreContext } from '../../../../shared/executors/restore.ts';
import { runSweep } from '../../../../shared/executors/run-sweep.ts';
import { ANNOTATIONS, DISK_LABELS } from '../../../../shared/instances/metadata.ts';
import { planCreate } from '../../../../shared/plans/create-plan.ts';
import { recordOwner, restoreRecordName } from '../../../../shared/plans/restore-record.ts';
import { planRestore } from '../../../../shared/plans/restore.ts';
import { holdLock } from '../../../../shared/executors/lock.ts';
import { caller, config, GRACE_MS, leftovers, NOTHING, template, world } from '../../fakes/world.ts';

const WINDOW_MS = 86_400_000;
const ADA = 'ada@example.com';
const ADMIN = 'root@example.com';

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

/** A restore as the create function's handler runs it: the record, the plan, the steps. */
async function restore(w: World, name: string, options: { email?: string; wait?: boolean; waitMs?: number } = {}) {
  const context = as(w, options.email ?? ADA, options.email === ADMIN ? '9' : '1');
  const record = await findRestoreRecord(context, name);
  const plan = planRestore({
    config,
    template,
    record,
    caller: context.caller,
    request: { name, wait: options.wait ?? true, waitMs: options.waitMs ?? 60_000 },
    nowMs: w.clock.now(),
    random: w.random,
  });
  return await executeRestore(context, { plan, record });
}

/** What a restore must leave as it found it when it fails: the kept disk, as it was, and the record, so that a retry can restore. */
function restorable(w: World, name: string) {
  return {
    deployment: w.cluster.deployments.has(name),
    leases: [...w.cluster.leases.keys()],
    disk: w.disks.disks.get(name),
  };
}

describe('destroy within the restore window', () => {
  it('keeps the disk, labelled with the time of the destroy, and a record; lets the slots go', async () => {
    const w = world();
    const name = await create(w);
    const disk = w.disks.disks.get(name);
    w.clock.advance(1_234);
    const destroyedAt = Math.floor(w.clock.now() / 1000) * 1000;
    const result = await destroyInstance(as(w), { name });
    expect(result).toEqual({ name, destroyed: true, restorableUntil: new Date(destroyedAt + WINDOW_MS).toISOString() });
    expect(leftovers(w)).toEqual({ deployments: [], leases: [restoreRecordName(name)], disks: [name] });
    expect(w.disks.disks.get(name)?.labels).toEqual({ ...disk?.labels, [DISK_LABELS.destroyedAt]: String(destroyedAt / 1000) });
    expect(w.disks.disks.get(name)?.creationTimestamp).toBe(disk?.creationTimestamp);
    const record = w.cluster.leases.get(restoreRecordName(name));
    expect(record?.metadata?.annotations).toMatchObject({
      [ANNOTATIONS.owner]: ADA,
      [ANNOTATIONS.ownerSubject]: '1',
      [ANNOTATIONS.mountName]: `/ns/allocated/${name}`,
      [ANNOTATIONS.destroyedAt]: new Date(destroyedAt).toISOString(),
    });
    expect(record?.metadata?.annotations?.[ANNOTATIONS.expiresAt]).toBeUndefined();
  });

  it('deletes everything with `now`, and without a window', async () => {
    const w = world();
    const first = await create(w);
    expect(await destroyInstance(as(w), { name: first, now: true })).toEqual({ name: first, destroyed: true });
    expect(leftovers(w)).toEqual(NOTHING);
    const second = await create(w);
    expect(await destroyInstance(w.context, { name: second })).toEqual({ name: second, destroyed: true });
    expect(leftovers(w)).toEqual(NOTHING);
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
  it('makes the instance again on the same disk, with its name, mount name and owner, new slots and a fresh lifetime', async () => {
    const w = world();
    const name = await create(w);
    const disk = w.disks.disks.get(name);
    const before = w.cluster.deployments.get(name)?.metadata?.annotations;
    await destroyInstance(as(w), { name });
    w.clock.advance(3_600_000);
    const instance = await restore(w, name);
    expect(instance).toMatchObject({ name, owner: ADA, mountName: before?.[ANNOTATIONS.mountName], disk: name, state: 'ready' });
    expect(instance.creationTime).toBe(new Date(Date.parse(instance.creationTime)).toISOString());
    expect(Date.parse(instance.creationTime)).toBeGreaterThan(Date.parse(before?.[ANNOTATIONS.createdAt] ?? '') + 3_600_000);
    expect(instance.expiresAt).toBe(new Date(Date.parse(instance.creationTime) + config.lifetime.defaultSeconds * 1000).toISOString());
    const annotations = w.cluster.deployments.get(name)?.metadata?.annotations;
    expect(annotations?.[ANNOTATIONS.ownerSubject]).toBe('1');
    expect(w.disks.disks.get(name)).toEqual({ ...disk, labelFingerprint: expect.any(String) as string });
    const leases = [...w.cluster.leases.values()];
    expect(leases.map((lease) => lease.metadata?.name)).not.toContain(restoreRecordName(name));
    expect(leases.map((lease) => lease.metadata?.ownerReferences?.[0]?.uid)).toEqual([
      w.cluster.deployments.get(name)?.metadata?.uid,
      w.cluster.deployments.get(name)?.metadata?.uid,
    ]);
    expect(w.events).toEqual([]);
  });

  it("lets an admin restore anyone's instance, which stays its owner's", async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const instance = await restore(w, name, { email: ADMIN });
    expect(instance.owner).toBe(ADA);
    expect(w.cluster.deployments.get(name)?.metadata?.annotations?.[ANNOTATIONS.ownerSubject]).toBe('1');
  });

  it.each([
    ['someone else', async (w: World, name: string) => await restore(w, name, { email: 'eve@example.com' })],
    ['past the window', async (w: World, name: string) => (w.clock.advance(WINDOW_MS), await restore(w, name))],
  ])('is a 404 for %s, and touches nothing', async (_label, attempt) => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const before = restorable(w, name);
    await expect(attempt(w, name)).rejects.toThrow(NotFoundError);
    expect(restorable(w, name)).toEqual(before);
  });

  it('is a 404 after a destroy with `now`, and after the sweep past the window', async () => {
    const w = world();
    const first = await create(w);
    await destroyInstance(as(w), { name: first, now: true });
    await expect(restore(w, first)).rejects.toThrow(NotFoundError);
    const second = await create(w);
    await destroyInstance(as(w), { name: second });
    w.clock.advance(WINDOW_MS);
    const swept = await runSweep(as(w), { dryRun: false });
    expect(swept.orphanDisks.map((d) => d.name)).toEqual([second]);
    expect(leftovers(w)).toEqual(NOTHING);
    await expect(restore(w, second)).rejects.toThrow(NotFoundError);
  });

  it('is a 409 once restored, and the second of two restores of one name is a 409', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const [first, second] = await Promise.allSettled([restore(w, name), restore(w, name)]);
    expect(first.status).toBe('fulfilled');
    expect(second).toMatchObject({ status: 'rejected', reason: { status: 409 } });
    await expect(restore(w, name)).rejects.toThrow(AlreadyExistsError);
    expect(w.cluster.deployments.size).toBe(1);
  });

  it('is the 409 of the lock while another restore of the name holds it', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const record = await findRestoreRecord(as(w), name);
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked = (): void => undefined;
    const taken = new Promise<void>((resolve) => (locked = resolve));
    const other = holdLock(as(w), { instance: name, owner: recordOwner(record), operation: 'restore' }, async () => {
      locked();
      await held;
    });
    await taken;
    await expect(restore(w, name)).rejects.toThrow(AbortedError);
    release();
    await other;
    await expect(restore(w, name)).resolves.toMatchObject({ name });
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

  it.each([
    ['the Deployment is refused', { method: 'createDeployment', when: 'before' as const }],
    ["the Deployment's answer is lost", { method: 'createDeployment', when: 'after' as const }],
    ['the slots cannot be bound', { method: 'patchLease', when: 'before' as const }],
    ['the record cannot be deleted', { method: 'deleteLease', when: 'before' as const, nth: 1 }],
  ])('undoes every step when %s, and the instance can still be restored', async (_label, fault) => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const before = restorable(w, name);
    w.cluster.faults.inject({ ...fault, error: () => new UnavailableError('injected') });
    await expect(restore(w, name)).rejects.toThrow(UnavailableError);
    expect(restorable(w, name)).toEqual(before);
    await expect(restore(w, name)).resolves.toMatchObject({ name, state: 'ready' });
  });

  it('undoes every step when the instance is not ready in time', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    const before = restorable(w, name);
    w.cluster.readyAfterReads = Number.POSITIVE_INFINITY;
    await expect(restore(w, name, { waitMs: 5_000 })).rejects.toThrow(DeadlineExceededError);
    expect(restorable(w, name)).toEqual(before);
  });

  it('is a 404 when the disk is gone, and clears the record', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    w.disks.disks.delete(name);
    await expect(restore(w, name)).rejects.toThrow(/its disk is gone/);
    expect(leftovers(w)).toEqual(NOTHING);
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
  });
});

describe('listDestroyed', () => {
  it('shows the caller theirs within the window, newest first; all of them to an admin with `all`', async () => {
    const w = world();
    const a1 = await create(w, ADA);
    await destroyInstance(as(w), { name: a1 });
    w.clock.advance(1_000);
    const a2 = await create(w, ADA);
    await destroyInstance(as(w), { name: a2 });
    const b = await create(w, 'bob@example.com');
    const destroyedB = await destroyInstance(as(w, 'bob@example.com'), { name: b });
    expect((await listDestroyed(as(w), { all: false })).map((d) => d.name)).toEqual([a2, a1]);
    expect(await listDestroyed(as(w, 'bob@example.com'), { all: false })).toEqual([
      {
        name: b,
        owner: 'bob@example.com',
        mountName: `/ns/allocated/${b}`,
        destroyedAt: new Date(Date.parse(destroyedB.restorableUntil ?? '') - WINDOW_MS).toISOString(),
        restorableUntil: destroyedB.restorableUntil,
      },
    ]);
    expect((await listDestroyed(as(w, ADMIN), { all: true })).map((d) => d.name).sort()).toEqual([a1, a2, b].sort());
    const a1Until = (await listDestroyed(as(w), { all: false })).find((d) => d.name === a1)?.restorableUntil ?? '';
    w.clock.advance(Date.parse(a1Until) - w.clock.now());
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
    expect(leftovers(w)).toEqual({ deployments: [], leases: [restoreRecordName(name)], disks: [name] });
    expect((await listDestroyed(as(w), { all: false })).map((d) => d.name)).toEqual([name]);
    await expect(restore(w, name)).resolves.toMatchObject({ name, state: 'ready' });
  });

  it('leaves a kept disk and its record alone within the window', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(as(w), { name });
    w.clock.advance(WINDOW_MS - 1_000);
    const swept = await runSweep(as(w), { dryRun: false });
    expect(swept.orphanDisks).toEqual([]);
    expect(leftovers(w)).toEqual({ deployments: [], leases: [restoreRecordName(name)], disks: [name] });
  });
});
