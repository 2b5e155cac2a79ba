import { describe, expect, it } from 'vitest';
import { AbortedError, NotFoundError, UnavailableError } from '../../../../shared/errors.ts';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { destroyInstance } from '../../../../shared/executors/destroy.ts';
import { resetInstance, resumeInstance, suspendInstance } from '../../../../shared/executors/lifecycle.ts';
import { withLock } from '../../../../shared/executors/lock.ts';
import { planCreate } from '../../../../shared/plans/create-plan.ts';
import { lockName } from '../../../../shared/plans/lock.ts';
import type { DisksApi } from '../../../../shared/gce/disks.ts';
import { instanceSlotSelector } from '../../../../shared/plans/slots.ts';
import { caller, config, leftovers, NOTHING, template, world } from '../../fakes/world.ts';

type World = ReturnType<typeof world>;

/** `w`'s context, with its disk deletion run through `around`, which may act before letting it go on. */
function withDiskDeletion(w: World, around: (name: string, deleteDisk: () => Promise<boolean>) => Promise<boolean>): World['context'] {
  const disks: DisksApi = {
    createDisk: (disk) => w.disks.createDisk(disk),
    deleteDisk: (name) => around(name, () => w.disks.deleteDisk(name)),
    getDisk: (name) => w.disks.getDisk(name),
    listDisks: (options) => w.disks.listDisks(options),
    setLabels: (request) => w.disks.setLabels(request),
    close: () => w.disks.close(),
  };
  return { ...w.context, disks };
}
const ada = caller('ada@example.com');

async function instance(w: World): Promise<string> {
  return (
    await executeCreate(
      w.context,
      planCreate({ config, template, caller: ada, request: { wait: true, waitMs: 60_000 }, nowMs: w.clock.now(), random: w.random }),
    )
  ).name;
}
const request = (name: string) => ({ name, wait: true, waitMs: 10_000 });

describe('suspend, resume and reset', () => {
  it("suspend scales to 0 and keeps disk and slots; resume scales back to the template's replicas", async () => {
    const w = world();
    const name = await instance(w);
    const before = leftovers(w);
    expect(await suspendInstance(w.context, { name })).toMatchObject({ name, state: 'suspended', replicas: 0 });
    expect(leftovers(w)).toEqual(before);
    expect(await resumeInstance(w.context, request(name))).toMatchObject({
      name,
      state: 'ready',
      replicas: 1,
      readyReplicas: 1,
    });
    expect(leftovers(w)).toEqual(before); // and the lock is gone
  });

  it('reset makes a fresh disk with the same name and labels, then scales back', async () => {
    const w = world();
    const name = await instance(w);
    const first = w.disks.disks.get(name)!;
    w.clock.advance(1_000);
    const answer = await resetInstance(w.context, request(name));
    expect(answer).toMatchObject({ name, state: 'ready' });
    const fresh = w.disks.disks.get(name)!;
    expect(fresh.labels).toEqual(first.labels);
    expect(fresh.creationTimestamp > first.creationTimestamp).toBe(true);
    expect(w.disks.faults.calls.filter((call) => call === 'createDisk')).toHaveLength(2);
  });

  it('a reset that cannot make the new disk leaves the instance suspended, never running without a disk, and a second reset finishes', async () => {
    const w = world();
    const name = await instance(w);
    w.disks.faults.inject({ method: 'createDisk', when: 'before', error: () => new UnavailableError('create disk: backendError') });
    await expect(resetInstance(w.context, request(name))).rejects.toThrow(/backendError/);
    expect(w.cluster.deployments.get(name)?.spec?.replicas).toBe(0);
    expect(w.disks.disks.has(name)).toBe(false);
    expect(await resetInstance(w.context, request(name))).toMatchObject({ state: 'ready' });
    expect(w.disks.disks.has(name)).toBe(true);
  });

  it('answers a stranger 404 and touches nothing', async () => {
    const w = world();
    const name = await instance(w);
    const before = leftovers(w);
    for (const act of [
      () => suspendInstance({ ...w.context, caller: caller('eve@example.com') }, { name }),
      () => resetInstance({ ...w.context, caller: caller('eve@example.com') }, request(name)),
    ]) {
      await expect(act()).rejects.toThrow(NotFoundError);
    }
    expect(leftovers(w)).toEqual(before);
  });

  it('refuses an instance that is being destroyed with a 409 to retry', async () => {
    const w = world();
    const name = await instance(w);
    w.cluster.deployments.get(name)!.metadata!.deletionTimestamp = new Date();
    await expect(resumeInstance(w.context, request(name))).rejects.toThrow(AbortedError);
    await expect(resumeInstance(w.context, request(name))).rejects.toThrow(/is being destroyed; it cannot be resumed/);
  });

  it('reads the instance again under the lock: a destroy that began after the first read wins', async () => {
    const w = world();
    const name = await instance(w);
    const before = structuredClone(w.cluster.deployments.get(name)!);
    w.cluster.deployments.get(name)!.metadata!.deletionTimestamp = new Date(); // a destroy began meanwhile
    const work = async () => 'ran';
    await expect(withLock(w.context, { deployment: before, operation: 'reset' }, work)).rejects.toThrow(
      /is being destroyed; it cannot reset/,
    );
    await expect(withLock(w.context, { deployment: before, operation: 'destroy', whileDeleting: true }, work)).resolves.toBe('ran');
    await w.cluster.deleteDeployment(name);
    await expect(withLock(w.context, { deployment: before, operation: 'reset' }, work)).rejects.toThrow(NotFoundError);
    expect([...w.cluster.leases.keys()].filter((lease) => lease.endsWith('-lock'))).toEqual([]);
  });
});

describe('one operation at a time on an instance', () => {
  it('answers a second operation 409 ABORTED while the first holds the lock, and lets it run after', async () => {
    const w = world();
    const name = await instance(w);
    const deployment = w.cluster.deployments.get(name)!;
    let second: unknown;
    await withLock(w.context, { deployment, operation: 'reset' }, async () => {
      second = await suspendInstance(w.context, { name }).catch((error: unknown) => error);
      await expect(destroyInstance(w.context, { name })).rejects.toThrow(/a reset of syncbased-[0-9a-f]{8} is in progress/);
    });
    expect(second).toBeInstanceOf(AbortedError);
    expect(second).toMatchObject({ status: 409, statusName: 'ABORTED', retryAfterSeconds: 5 });
    expect(w.cluster.leases.has(lockName(name))).toBe(false);
    expect(await suspendInstance(w.context, { name })).toMatchObject({ state: 'suspended' });
  });

  it('takes over a lock left by a crashed process once its duration has passed, and says so', async () => {
    const w = world();
    const name = await instance(w);
    const deployment = w.cluster.deployments.get(name)!;
    const crashed = withLock(
      { ...w.context, lockMs: 5_000 },
      { deployment, operation: 'reset' },
      () => new Promise<never>(() => undefined),
    );
    void crashed;
    await new Promise((resolve) => setImmediate(resolve));
    await expect(suspendInstance(w.context, { name })).rejects.toThrow(AbortedError);
    w.clock.advance(6_000);
    expect(await suspendInstance(w.context, { name })).toMatchObject({ state: 'suspended' });
    expect(w.events).toContainEqual(
      expect.stringMatching(/taking over the lock of syncbased-[0-9a-f]{8}-lock, left by an interrupted reset/),
    );
  });

  it('releases only the lock it made: one taken over meanwhile stays with its new holder', async () => {
    const w = world();
    const name = await instance(w);
    const deployment = w.cluster.deployments.get(name)!;
    let resume = (): void => undefined;
    const slow = withLock(
      { ...w.context, lockMs: 5_000 },
      { deployment, operation: 'reset' },
      () => new Promise<void>((resolve) => (resume = resolve)),
    );
    await new Promise((resolve) => setImmediate(resolve));
    w.clock.advance(6_000);
    await withLock(w.context, { deployment, operation: 'suspend' }, async () => {
      resume();
      await slow; // the reset that outlived its lock ends, and releases
      expect(w.cluster.leases.get(lockName(name))?.metadata?.labels?.['allocator.dev/lock']).toBe('suspend');
    });
    expect(w.cluster.leases.has(lockName(name))).toBe(false);
  });

  it('lets destroy remove the instance, its disk, slots and lock', async () => {
    const w = world();
    const name = await instance(w);
    await destroyInstance(w.context, { name });
    expect(leftovers(w)).toEqual(NOTHING);
  });

  it('lets go of the lock once the Deployment is gone, while the disk is deleted', async () => {
    const w = world();
    const name = await instance(w);
    let releasedDuringDiskDeletion = false;
    const context = withDiskDeletion(w, async (_name, deleteDisk) => {
      const before = w.cluster.faults.calls.lastIndexOf('deleteDeployment');
      for (let turn = 0; turn < 20 && !releasedDuringDiskDeletion; turn += 1) {
        await new Promise((resolve) => setImmediate(resolve));
        releasedDuringDiskDeletion = w.cluster.faults.calls.slice(before).includes('deleteLease');
      }
      return await deleteDisk();
    });
    await destroyInstance(context, { name });
    expect(releasedDuringDiskDeletion).toBe(true);
    expect(leftovers(w)).toEqual(NOTHING);
  });

  it('deletes the slots it listed, not those a new create of the same name took once the Deployment was gone', async () => {
    const w = world();
    const name = await instance(w);
    const context = withDiskDeletion(w, async (_name, deleteDisk) => {
      const [slot] = (await w.cluster.listLeases({ labelSelector: instanceSlotSelector('syncbased', name) })).items;
      await w.cluster.createLease({
        metadata: { name: 'syncbased-g-2', labels: { ...slot!.metadata!.labels } },
        spec: { holderIdentity: `${name}/retry` },
      });
      return await deleteDisk();
    });
    await destroyInstance(context, { name });
    expect(leftovers(w)).toEqual({ ...NOTHING, leases: ['syncbased-g-2'] });
  });

  it('destroys an instance whose slot went while the lock was taken', async () => {
    const w = world();
    const name = await instance(w);
    const [slot] = (await w.cluster.listLeases({ labelSelector: instanceSlotSelector('syncbased', name) })).items;
    w.cluster.faults.inject({
      method: 'patchLease',
      when: 'before',
      error: () => new NotFoundError(`leases "${slot!.metadata!.name}" not found`),
    });
    await destroyInstance(w.context, { name });
    expect(leftovers(w)).toEqual(NOTHING);
  });
});
