import { describe, expect, it } from 'vitest';
import { AbortedError, QuotaExceededError, UnavailableError } from '../../../../shared/errors.ts';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { makePoolDisk } from '../../../../shared/executors/disk-pool.ts';
import { runSweep } from '../../../../shared/executors/run-sweep.ts';
import { StaleFingerprintError } from '../../../../shared/gce/disks.ts';
import { DISK_LABELS } from '../../../../shared/instances/metadata.ts';
import { keyRecordLease, keyRecordName, planCreate, type CreateRequest } from '../../../../shared/plans/create-plan.ts';
import { caller, config, GRACE_MS, template, world } from '../../fakes/world.ts';

type World = ReturnType<typeof world>;

/** A world with the pool on (size 2) and `made` free pool disks in it. */
async function pooled(made: number): Promise<World & { context: World['context'] }> {
  const w = world();
  const context = { ...w.context, diskPool: { size: 2 } };
  for (let i = 0; i < made; i += 1) await makePoolDisk(context);
  return { ...w, context };
}

const planFor =
  (w: World, request: Partial<CreateRequest> = {}, email = 'ada@example.com') =>
  (name?: string) =>
    planCreate({
      config: { ...config, limits: { perUser: 3, global: 10 } },
      template,
      caller: caller(email),
      request: { wait: false, waitMs: config.waitTimeoutMs, ...request },
      nowMs: w.clock.now(),
      random: w.context.random,
      ...(name === undefined ? {} : { name }),
    });

const free = (w: World): string[] =>
  [...w.disks.disks.values()].filter((disk) => disk.labels[DISK_LABELS.poolState] === 'free').map((disk) => disk.name);

describe('executeCreate with the pool on', () => {
  it('claims a free pool disk, names the instance after it, and refills the pool without waiting', async () => {
    const w = await pooled(1);
    const [disk] = free(w);
    const instance = await executeCreate(w.context, { planFor: planFor(w) });
    expect(instance.name).toBe(disk);
    expect(w.disks.disks.get(disk!)?.labels).toMatchObject({ [DISK_LABELS.instance]: disk, [DISK_LABELS.allocator]: 'syncbased' });
    expect(w.disks.faults.calls).toContain('setLabels');
    await w.context.background.settled();
    expect(free(w)).toHaveLength(1); // the replacement
    expect(w.events).toContain(`claimed the pool disk ${disk}`);
  });

  it('gives its disk back only once a slot its undo could not give back is gone: the next create of that disk holds its own alone', async () => {
    const w = await pooled(1);
    const [disk] = free(w);
    w.cluster.faults.inject({ method: 'createDeployment', when: 'before', error: () => new UnavailableError('down') });
    // The undo of the first slot reads it before deleting it: that answer is lost, and the slot stays.
    w.cluster.faults.inject({ method: 'readLease', when: 'after', error: () => new UnavailableError('lost') });
    await expect(executeCreate(w.context, { planFor: planFor(w) })).rejects.toThrow(UnavailableError);
    await w.context.background.settled();
    expect(free(w)).toContain(disk);
    expect([...w.cluster.leases.values()].filter((lease) => lease.metadata?.labels?.['allocator.dev/instance'] === disk)).toEqual([]);
    const again = await executeCreate(w.context, { planFor: planFor(w) });
    expect(again.name).toBe(disk);
    const held = [...w.cluster.leases.values()].filter((lease) => lease.metadata?.labels?.['allocator.dev/instance'] === disk);
    expect(held.map((lease) => lease.metadata?.labels?.['allocator.dev/slot']).sort()).toEqual(['global', 'user']);
  });

  it('tries the next free disk when another create claimed one first, and makes its own when none is left', async () => {
    const w = await pooled(1);
    w.disks.faults.inject({
      method: 'setLabels',
      when: 'before',
      error: () => new StaleFingerprintError('Labels fingerprint either invalid'),
    });
    const instance = await executeCreate(w.context, { planFor: planFor(w) });
    expect(free(w)).toHaveLength(1); // untouched: it lost the race for it
    expect(w.disks.disks.get(instance.name)?.labels[DISK_LABELS.pool]).toBeUndefined();
    expect(w.events).toContain('every free pool disk was claimed first: making a disk');
  });

  it('tries the next free disk when one it listed is gone by its claim (the sweep retired it)', async () => {
    const w = await pooled(1);
    const [listed] = free(w);
    const setLabels = w.disks.setLabels.bind(w.disks);
    w.disks.setLabels = async (request) => {
      if (request.name === listed) await w.disks.deleteDisk(listed); // between the create's list and its claim
      return await setLabels(request);
    };
    const instance = await executeCreate(w.context, { planFor: planFor(w) });
    expect(instance.name).not.toBe(listed);
    expect(w.disks.disks.has(instance.name)).toBe(true);
    expect(w.events).toContain('every free pool disk was claimed first: making a disk');
  });

  it('says so when the pool is empty, and makes its own disk as without the pool', async () => {
    const w = await pooled(0);
    const instance = await executeCreate(w.context, { planFor: planFor(w) });
    expect(w.disks.disks.has(instance.name)).toBe(true);
    expect(w.events).toContain('the disk pool is empty: making a disk');
    expect(w.disks.faults.calls).not.toContain('setLabels');
  });

  it('gives the disk back, free, when the create fails after claiming it', async () => {
    const w = await pooled(1);
    const before = free(w);
    w.cluster.faults.inject({ method: 'createDeployment', when: 'before', error: () => new QuotaExceededError('no room') });
    await expect(executeCreate(w.context, { planFor: planFor(w) })).rejects.toThrow(QuotaExceededError);
    await w.context.background.settled();
    expect(free(w)).toEqual(expect.arrayContaining(before));
    expect([...w.cluster.deployments.keys()]).toEqual([]);
    expect([...w.cluster.leases.keys()]).toEqual([]);
  });

  it('deletes the disk it cannot give back', async () => {
    const w = await pooled(1);
    const [disk] = free(w);
    w.cluster.faults.inject({ method: 'createDeployment', when: 'before', error: () => new QuotaExceededError('no room') });
    w.disks.faults.inject({ method: 'setLabels', nth: 2, when: 'before', error: () => new Error('Compute Engine is down') });
    await expect(executeCreate(w.context, { planFor: planFor(w) })).rejects.toThrow(QuotaExceededError);
    expect(w.disks.disks.has(disk!)).toBe(false);
  });

  it('records a keyed create’s name before the claim, and answers its retry with the same instance', async () => {
    const w = await pooled(2);
    const request = { idempotencyKey: 'k1' };
    const first = await executeCreate(w.context, { planFor: planFor(w, request) });
    const keyHash = planFor(w, request)().idempotencyKeyHash!;
    const record = w.cluster.leases.get(keyRecordName('syncbased', keyHash));
    expect(record?.spec?.holderIdentity).toBe(first.name);
    expect(record?.metadata?.labels?.['allocator.dev/instance']).toBe(first.name); // its destroy deletes it
    const again = await executeCreate(w.context, { planFor: planFor(w, request) });
    expect(again.name).toBe(first.name);
    expect([...w.cluster.deployments.keys()]).toEqual([first.name]);
  });

  it('keeps a keyed create’s record when its Deployment could not be undone, so that the retry answers with that instance', async () => {
    const w = await pooled(2);
    const request = { idempotencyKey: 'k2' };
    w.cluster.faults.inject({ method: 'createDeployment', when: 'after', error: () => new Error('connection reset') });
    w.cluster.faults.inject({ method: 'deleteDeployment', when: 'before', error: () => new Error('connection reset') });
    await expect(executeCreate(w.context, { planFor: planFor(w, request) })).rejects.toThrow('connection reset');
    // The Deployment it could not undo stands; a retry answers with it.
    const names = [...w.cluster.deployments.keys()];
    expect(names).toHaveLength(1);
    expect((await executeCreate(w.context, { planFor: planFor(w, request) })).name).toBe(names[0]);
  });
  it('answers a keyed retry 409 while another try holds the record, and clears the record once it is left past the grace period', async () => {
    const w = await pooled(2);
    const request = { idempotencyKey: 'k3' };
    const plan = planFor(w, request)();
    const record = keyRecordLease({
      serverName: 'syncbased',
      keyHash: plan.idempotencyKeyHash!,
      ownerHash: 'h',
      instance: 'syncbased-0f0f0f0f',
    });
    await w.cluster.createLease(record);
    await expect(executeCreate(w.context, { planFor: planFor(w, request) })).rejects.toThrow(AbortedError);
    expect([...w.cluster.deployments.keys()]).toEqual([]);
    w.clock.advance(GRACE_MS + 1_000);
    const made = await executeCreate(w.context, { planFor: planFor(w, request) });
    expect(w.cluster.leases.get(keyRecordName('syncbased', plan.idempotencyKeyHash!))?.spec?.holderIdentity).toBe(made.name);
  });
});

describe('the sweep and the pool', () => {
  it('tops the pool up, and never takes its disks for orphans however old', async () => {
    const w = await pooled(1);
    w.clock.advance(GRACE_MS * 10);
    const report = await runSweep(w.context, { dryRun: false });
    expect(report.orphanDisks).toEqual([]);
    expect(report.pool).toEqual({ size: 2, free: 1, made: 1, retired: [] });
    expect(free(w)).toHaveLength(2);
  });

  it('shrinks the pool to its size, and replaces disks made to another disk setting', async () => {
    const w = await pooled(3);
    expect((await runSweep(w.context, { dryRun: false })).pool).toMatchObject({ free: 3, made: 0, retired: [{ why: 'beyond-size' }] });
    const changed = { ...w.context, disk: { ...w.context.disk, source: { snapshot: 'global/snapshots/golden' } } };
    const report = await runSweep(changed, { dryRun: false });
    expect(report.pool).toMatchObject({ free: 0, made: 2 });
    expect(report.pool.retired.map((entry) => entry.why)).toEqual(['spec-changed', 'spec-changed']);
    expect([...w.disks.sources.values()]).toEqual([{ snapshot: 'global/snapshots/golden' }, { snapshot: 'global/snapshots/golden' }]);
  });
});
