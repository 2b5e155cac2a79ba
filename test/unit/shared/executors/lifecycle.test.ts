import { describe, expect, it } from 'vitest';
import { AbortedError, NotFoundError, UnavailableError } from '../../../../shared/errors.ts';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { destroyInstance } from '../../../../shared/executors/destroy.ts';
import { resetInstance, restartInstance, resumeInstance, suspendInstance } from '../../../../shared/executors/lifecycle.ts';
import { runTransition } from '../../../../shared/executors/transition.ts';
import { planCreate } from '../../../../shared/plans/create-plan.ts';
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

  it('lets one of two operations read at once enter: the other write conflicts, and it reads again and is refused', async () => {
    const w = world();
    const name = await instance(w);
    const [reset, destroy] = await Promise.allSettled([resetInstance(w.context, request(name)), destroyInstance(w.context, { name })]);
    const calls = w.cluster.faults.calls;
    expect(calls.filter((call) => call === 'readRecord').length).toBeGreaterThanOrEqual(3); // both read, and the loser read again
    const [won, lost] = reset.status === 'fulfilled' ? [reset, destroy] : [destroy, reset];
    expect(won.status).toBe('fulfilled');
    expect(lost).toMatchObject({ status: 'rejected', reason: { status: 409, statusName: 'ABORTED' } });
    expect((lost as PromiseRejectedResult).reason.message).toMatch(/is in progress|is being destroyed/);
  });
});

describe('one operation at a time on an instance', () => {
  it('answers a second operation 409 ABORTED while the first holds the record, and lets it run after', async () => {
    const w = world();
    const name = await instance(w);
    let second: unknown;
    await runTransition(w.context, { name, kind: 'reset' }, async () => {
      expect(w.cluster.records.get(name)?.status).toMatchObject({ phase: 'resetting', operation: { kind: 'reset', from: 'running' } });
      second = await suspendInstance(w.context, { name }).catch((error: unknown) => error);
      await expect(destroyInstance(w.context, { name })).rejects.toThrow(/a reset of syncbased-[0-9a-f]{8} is in progress/);
      return { result: undefined };
    });
    expect(second).toBeInstanceOf(AbortedError);
    expect(second).toMatchObject({ status: 409, statusName: 'ABORTED', retryAfterSeconds: 5 });
    expect(w.cluster.records.get(name)?.status).toEqual({ phase: 'running' });
    expect(await suspendInstance(w.context, { name })).toMatchObject({ state: 'suspended' });
    expect(w.cluster.records.get(name)?.status).toEqual({ phase: 'suspended' });
  });

  it('takes over a hold left by a crashed process once its deadline has passed, from where its failure would leave it', async () => {
    const w = world();
    const name = await instance(w);
    const crashed = runTransition({ ...w.context, lockMs: 5_000 }, { name, kind: 'reset' }, () => new Promise<never>(() => undefined));
    void crashed;
    for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    await expect(suspendInstance(w.context, { name })).rejects.toThrow(AbortedError);
    w.clock.advance(6_000);
    expect(await suspendInstance(w.context, { name })).toMatchObject({ state: 'suspended' });
    expect(w.events).toContainEqual(expect.stringMatching(/taking over syncbased-[0-9a-f]{8} from an interrupted reset/));
  });

  it('lets a hold taken over meanwhile stay with its new holder: the late one fails rather than overwrite it', async () => {
    const w = world();
    const name = await instance(w);
    let resume = (): void => undefined;
    const slow = runTransition({ ...w.context, lockMs: 5_000 }, { name, kind: 'reset' }, async () => {
      await new Promise<void>((resolve) => (resume = resolve));
      return { result: undefined };
    });
    slow.catch(() => undefined);
    for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    w.clock.advance(6_000);
    await runTransition(w.context, { name, kind: 'suspend' }, async () => {
      resume();
      await expect(slow).rejects.toThrow(/taken over by another operation/);
      expect(w.cluster.records.get(name)?.status.operation?.kind).toBe('suspend');
      return { result: undefined };
    });
    expect(w.cluster.records.get(name)?.status).toEqual({ phase: 'suspended' });
  });

  it("refuses what the table does not allow from the phase the record is in, with the table's words", async () => {
    const w = world();
    const name = await instance(w);
    await suspendInstance(w.context, { name });
    await expect(restartInstance(w.context, { name, wait: false, waitMs: 1_000 })).rejects.toMatchObject({
      status: 400,
      statusName: 'FAILED_PRECONDITION',
      message: `instance ${name} is suspended; it can be restarted only when running`,
    });
  });

  it('writes the record of an instance made before records existed at its first operation, from its Deployment', async () => {
    const w = world();
    const name = await instance(w);
    w.cluster.records.delete(name);
    expect(await suspendInstance(w.context, { name })).toMatchObject({ state: 'suspended' });
    expect(w.cluster.records.get(name)).toMatchObject({
      spec: { owner: { email: w.context.caller.email }, disk: { name } },
      status: { phase: 'suspended' },
    });
  });

  it('lets destroy remove the instance, its disk, slots and lock', async () => {
    const w = world();
    const name = await instance(w);
    await destroyInstance(w.context, { name });
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
