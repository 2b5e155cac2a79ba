import { describe, expect, it } from 'vitest';
import { runSweep } from '../../../../shared/executors/run-sweep.ts';
import { executeSweep } from '../../../../shared/executors/sweep.ts';
import { planCreate } from '../../../../shared/plans/create-plan.ts';
import type { SweepAction, SweepPlan } from '../../../../shared/plans/sweep-plan.ts';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { tearDown } from '../../../../shared/executors/destroy.ts';
import type { DisksApi } from '../../../../shared/gce/disks.ts';
import { caller, config, GRACE_MS, leftovers, NOTHING, template, world } from '../../fakes/world.ts';

type World = ReturnType<typeof world>;

/** One instance, made by the real create executor; `lifetimeSeconds` 1 so that it can expire. */
async function instance(w: World, email: string, lifetimeSeconds = 3600): Promise<string> {
  const plan = planCreate({
    config: { ...config, limits: { perUser: 5, global: 50 } },
    template,
    caller: caller(email),
    request: { wait: false, waitMs: 60_000, lifetimeSeconds },
    nowMs: w.clock.now(),
    random: w.random,
  });
  return (await executeCreate(w.context, plan)).name;
}

const planOf = (...actions: SweepAction[]): SweepPlan => ({ actions, deferred: 0, scanned: { deployments: 0, disks: 0, slots: 0 } });
const sweep = (w: World, plan: SweepPlan, dryRun = false) =>
  executeSweep(w.context, { plan, dryRun, startedAt: new Date(w.clock.now()).toISOString() });

describe('executeSweep acts only where a fresh read still agrees', () => {
  it('destroys an expired instance, and not one extended since the scan', async () => {
    const w = world();
    const expiring = await instance(w, 'a@x.test', 1);
    const extended = await instance(w, 'b@x.test', 1);
    w.clock.advance(2_000);
    await w.cluster.patchDeployment(extended, {
      metadata: { annotations: { 'allocator.dev/expires-at': new Date(w.clock.now() + 3_600_000).toISOString() } },
    });
    const report = await sweep(
      w,
      planOf(
        { kind: 'expired', name: expiring, owner: 'a@x.test', expiresAt: '' },
        { kind: 'expired', name: extended, owner: 'b@x.test', expiresAt: '' },
      ),
    );
    expect(report.expired.map((e) => e.name)).toEqual([expiring]);
    expect(leftovers(w).deployments).toEqual([extended]);
    expect(leftovers(w).disks).toEqual([extended]);
  });

  it('removes a Deployment whose disk is gone, and not one whose disk came back', async () => {
    const w = world();
    const orphan = await instance(w, 'a@x.test');
    const healed = await instance(w, 'b@x.test');
    await w.disks.deleteDisk(orphan);
    const report = await sweep(
      w,
      planOf({ kind: 'orphan-deployment', name: orphan, createdAt: '' }, { kind: 'orphan-deployment', name: healed, createdAt: '' }),
    );
    expect(report.orphanDeployments.map((e) => e.name)).toEqual([orphan]);
    expect(leftovers(w).deployments).toEqual([healed]);
  });

  it('deletes a disk whose Deployment is gone, and not one whose Deployment exists now', async () => {
    const w = world();
    const live = await instance(w, 'a@x.test');
    await w.disks.createDisk({
      name: 'syncbased-0000abcd',
      sizeGb: 1,
      type: 'pd-standard',
      labels: { allocator: 'syncbased', 'allocator-instance': 'syncbased-0000abcd' },
    });
    const report = await sweep(
      w,
      planOf({ kind: 'orphan-disk', name: 'syncbased-0000abcd', createdAt: '' }, { kind: 'orphan-disk', name: live, createdAt: '' }),
    );
    expect(report.orphanDisks.map((e) => e.name)).toEqual(['syncbased-0000abcd']);
    expect(leftovers(w).disks).toEqual([live]);
  });

  it('deletes a slot of a missing instance, and not one whose instance exists now or one taken since by another', async () => {
    const w = world();
    const live = await instance(w, 'a@x.test');
    const liveSlot = [...w.cluster.leases.values()].find((lease) => lease.metadata?.labels?.['allocator.dev/instance'] === live)!.metadata!
      .name!;
    await w.cluster.createLease({
      metadata: {
        name: 'syncbased-g-9',
        labels: { 'allocator.dev/allocator': 'syncbased', 'allocator.dev/slot': 'global', 'allocator.dev/instance': 'syncbased-0000dead' },
      },
    });
    await w.cluster.createLease({
      metadata: {
        name: 'syncbased-g-8',
        labels: { 'allocator.dev/allocator': 'syncbased', 'allocator.dev/slot': 'global', 'allocator.dev/instance': 'syncbased-0000beef' },
      },
    });
    const report = await sweep(
      w,
      planOf(
        { kind: 'orphan-slot', name: 'syncbased-g-9', instance: 'syncbased-0000dead' },
        { kind: 'orphan-slot', name: liveSlot, instance: live },
        { kind: 'orphan-slot', name: 'syncbased-g-8', instance: 'syncbased-0000dead' },
      ),
    );
    expect(report.orphanSlots.map((e) => e.name)).toEqual(['syncbased-g-9']);
    expect(leftovers(w).leases).toContain(liveSlot);
    expect(leftovers(w).leases).toContain('syncbased-g-8');
  });

  it('changes nothing in a dry run, and reports what it would do', async () => {
    const w = world();
    const expiring = await instance(w, 'a@x.test', 1);
    w.clock.advance(2_000);
    const before = leftovers(w);
    const report = await sweep(w, planOf({ kind: 'expired', name: expiring, owner: 'a@x.test', expiresAt: 'then' }), true);
    expect(report).toMatchObject({ dryRun: true, expired: [{ name: expiring, owner: 'a@x.test', expiresAt: 'then' }], failed: [] });
    expect(leftovers(w)).toEqual(before);
  });

  it('reports a failed action with its cause and goes on with the others', async () => {
    const w = world();
    const first = await instance(w, 'a@x.test', 1);
    const second = await instance(w, 'b@x.test', 1);
    w.clock.advance(2_000);
    w.cluster.faults.inject({
      method: 'deleteDeployment',
      when: 'before',
      error: () => new Error('etcd timeout', { cause: new Error('context deadline exceeded') }),
    });
    const report = await sweep(
      w,
      planOf({ kind: 'expired', name: first, owner: '', expiresAt: '' }, { kind: 'expired', name: second, owner: '', expiresAt: '' }),
    );
    expect(report.expired).toHaveLength(1);
    expect(report.failed).toEqual([
      { kind: 'expired', name: expect.any(String), error: 'Error: etcd timeout <- Error: context deadline exceeded' },
    ]);
  });
});

describe('runSweep', () => {
  it('scans, plans and carries out, leaving live instances and young leftovers alone', async () => {
    const w = world();
    const live = await instance(w, 'a@x.test');
    const expiring = await instance(w, 'b@x.test', 1);
    await w.disks.createDisk({
      name: 'syncbased-0000abcd',
      sizeGb: 1,
      type: 'pd-standard',
      labels: { allocator: 'syncbased', 'allocator-instance': 'syncbased-0000abcd' },
    });
    w.clock.advance(2_000);
    const young = await runSweep(w.context, { dryRun: false });
    expect(young).toMatchObject({ expired: [{ name: expiring }], orphanDisks: [], failed: [] });
    w.clock.advance(GRACE_MS);
    const old = await runSweep(w.context, { dryRun: false });
    expect(old).toMatchObject({
      expired: [],
      orphanDisks: [{ name: 'syncbased-0000abcd' }],
      orphanDeployments: [],
      orphanSlots: [],
      scanned: { deployments: 1, disks: 2, slots: 2 },
    });
    expect(leftovers(w)).toEqual({ deployments: [live], leases: expect.any(Array), disks: [live] });
    await tearDown({ ...w.context, restoreWindowMs: 0 }, { name: live, bySweep: true });
    expect(leftovers(w)).toEqual(NOTHING);
  });

  it('reads Deployments, disks and slots at once, not one after another', async () => {
    const w = world();
    await instance(w, 'a@x.test');
    // The disk list answers only once both cluster lists have been sent: read one after another, the scan would never end.
    let clusterListsSent = (): void => undefined;
    const bothSent = new Promise<void>((resolve) => (clusterListsSent = resolve));
    const disks: DisksApi = {
      createDisk: (disk) => w.disks.createDisk(disk),
      deleteDisk: (name) => w.disks.deleteDisk(name),
      getDisk: (name) => w.disks.getDisk(name),
      listDisks: async (options) => {
        await bothSent;
        return await w.disks.listDisks(options);
      },
      setLabels: (request) => w.disks.setLabels(request),
      close: () => w.disks.close(),
    };
    const watchCalls = setInterval(() => {
      if (w.cluster.faults.calls.includes('listDeployments') && w.cluster.faults.calls.includes('listLeases')) clusterListsSent();
    }, 1);
    try {
      const report = await runSweep({ ...w.context, disks }, { dryRun: true });
      expect(report.scanned).toEqual({ deployments: 1, disks: 1, slots: 2 });
    } finally {
      clearInterval(watchCalls);
    }
  });

  it('lists the records once when the scan leads to nothing, and again for the walk after it acted', async () => {
    const w = world();
    await instance(w, 'a@x.test', 1);
    const listsOfRecords = async (dryRun: boolean): Promise<number> => {
      const before = w.cluster.faults.calls.length;
      await runSweep(w.context, { dryRun });
      return w.cluster.faults.calls.slice(before).filter((call) => call === 'listRecords').length;
    };
    expect(await listsOfRecords(false)).toBe(1); // nothing expired yet
    w.clock.advance(2_000);
    expect(await listsOfRecords(true)).toBe(1); // a dry run changes nothing
    expect(await listsOfRecords(false)).toBe(2); // it destroyed the expired instance: the walk sees what that left
  });

  it('answers only once both halves have ended when the pool fails: no teardown goes on after the answer', async () => {
    const w = world();
    const name = await instance(w, 'a@x.test');
    w.cluster.deployments.delete(name); // by hand: the record's walk tears it down past the grace period
    w.clock.advance(GRACE_MS + 1);
    const context = { ...w.context, diskPool: { size: 2 } };
    // The scan's disk list first, then the pool's: the pool fails at once, while the record's walk has work to do.
    w.disks.faults.inject({ method: 'listDisks', when: 'before', nth: 2, error: () => new Error('Compute Engine is down') });
    await expect(runSweep(context, { dryRun: false })).rejects.toThrow('Compute Engine is down');
    const calls = w.cluster.faults.calls.length + w.disks.faults.calls.length;
    expect(w.events).toContain(`tear down ${name}, whose Deployment is gone`);
    expect([...w.cluster.records.keys()]).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(w.cluster.faults.calls.length + w.disks.faults.calls.length).toBe(calls);
  });
});
