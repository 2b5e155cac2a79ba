import type { V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { destroyInstance } from '../../../../shared/executors/destroy.ts';
import { reconcileRecords, type RecordsContext } from '../../../../shared/executors/sweep-records.ts';
import { QuotaExceededError } from '../../../../shared/errors.ts';
import type { InstanceRecord } from '../../../../shared/model/record.ts';
import { planCreate, recordOfPlan } from '../../../../shared/plans/create-plan.ts';
import { queuedRecord, queuedStatus } from '../../../../shared/plans/queue.ts';
import { caller, config, GRACE_MS, leftovers, NOTHING, template, world } from '../../fakes/world.ts';

const WINDOW_MS = 86_400_000;
const ADA = 'ada@example.com';
const ADA_HASH = '3ca93ad87e0bb737e653b66ad67731e86bbc050f'; // sha1 of ada@example.com

type World = ReturnType<typeof world>;

/** The sweep's context, with a day's restore window. */
const sweeping = (w: World): RecordsContext & World['context'] => ({
  ...w.context,
  restoreWindowMs: WINDOW_MS,
  keptPerUser: 5,
  graceMs: GRACE_MS,
});

async function create(w: World): Promise<string> {
  const plan = planCreate({
    config: { ...config, limits: { perUser: 5, global: 10 } },
    template,
    caller: caller(ADA),
    request: { wait: true, waitMs: 60_000 },
    nowMs: w.clock.now(),
    random: w.random,
  });
  return (await executeCreate(w.context, plan)).name;
}

/** Writes `status` on `name`'s record, as an operation would. */
async function setStatus(w: World, name: string, status: InstanceRecord['status']): Promise<void> {
  const record = w.cluster.records.get(name)!;
  await w.cluster.replaceRecord({ ...record, status }, 'status');
}

/** Everything the sweep could change. */
function state(w: World) {
  return { ...leftovers(w), records: structuredClone([...w.cluster.records.values()]) };
}

/** A restore Lease as the release before records wrote it, for ada's instance `name`, destroyed at `destroyedAt`. */
function legacyLease(name: string, destroyedAt: string): V1Lease {
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
        'allocator.dev/mount-name': `/ns/allocated/${name}`,
        'allocator.dev/access-list': `{"In":["${ADA}","root@example.com"]}`,
        'allocator.dev/version': 'v0',
        'allocator.dev/disk': name,
        'allocator.dev/created-at': '2026-11-24T08:00:00.000Z',
        'allocator.dev/replicas': '1',
        'allocator.dev/parameters': '{"size":"large"}',
        'allocator.dev/destroyed-at': destroyedAt,
      },
    },
    spec: {},
  };
}

describe('reconcileRecords', () => {
  it('ends a hold past its deadline where its Deployment shows it (a reset that died after scaling to 0), and leaves a live one alone', async () => {
    const w = world();
    const dead = await create(w);
    const live = await create(w);
    w.cluster.deployments.get(dead)!.spec!.replicas = 0;
    const operation = (deadline: number) => ({ kind: 'reset' as const, holder: 'reset/x', deadline: new Date(deadline).toISOString() });
    await setStatus(w, dead, { phase: 'resetting', operation: { ...operation(w.clock.now() - 1), from: 'running' } });
    await setStatus(w, live, { phase: 'resetting', operation: { ...operation(w.clock.now() + 60_000), from: 'running' } });
    const liveRecord = w.cluster.records.get(live);
    expect(await reconcileRecords(sweeping(w), { dryRun: false })).toEqual([`end the reset of ${dead}, past its deadline, in suspended`]);
    expect(w.cluster.records.get(dead)?.status).toEqual({ phase: 'suspended' });
    expect(w.cluster.records.get(live)).toEqual(liveRecord);
  });

  it('ends a dead hold with no Deployment where its failure leaves the instance: a restore that died goes back to destroyed', async () => {
    const w = world();
    const name = await create(w);
    await destroyInstance(sweeping(w), { name });
    const destroyedAt = w.cluster.records.get(name)!.status.destroyedAt!;
    const operation = {
      kind: 'restore' as const,
      holder: 'restore/x',
      deadline: new Date(w.clock.now() - 1).toISOString(),
      from: 'destroyed' as const,
    };
    await setStatus(w, name, { phase: 'restoring', destroyedAt, operation });
    expect(await reconcileRecords(sweeping(w), { dryRun: false })).toEqual([`end the restore of ${name}, past its deadline, in destroyed`]);
    expect(w.cluster.records.get(name)?.status).toEqual({ phase: 'destroyed', destroyedAt });
  });

  it('drops a destroyed record past its window with its disk, and keeps one within it', async () => {
    const w = world();
    const old = await create(w);
    await destroyInstance(sweeping(w), { name: old });
    w.clock.advance(60_000);
    const young = await create(w);
    await destroyInstance(sweeping(w), { name: young });
    const youngRecord = w.cluster.records.get(young);
    w.clock.advance(WINDOW_MS - 60_000);
    expect(await reconcileRecords(sweeping(w), { dryRun: false })).toEqual([`drop ${old}, past its restore window`]);
    expect(leftovers(w)).toEqual({ deployments: [], leases: [], disks: [young] });
    expect([...w.cluster.records.values()]).toEqual([youngRecord]);
  });

  it("drops an owner's oldest kept instances beyond their count, which a destroy interrupted before making room left", async () => {
    const w = world();
    const names: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      names.push(await create(w));
      await destroyInstance(sweeping(w), { name: names[i]! });
      w.clock.advance(60_000);
    }
    const [oldest, middle, newest] = names as [string, string, string];
    const counted = { ...sweeping(w), keptPerUser: 1 }; // lowered since: as if the destroys had not made room
    const line = `drop the oldest kept instances of ${ADA} beyond their count of 1`;
    expect(await reconcileRecords(counted, { dryRun: true })).toEqual([`would ${line}`]);
    expect([...w.cluster.records.keys()].sort()).toEqual([oldest, middle, newest].sort());
    expect(await reconcileRecords(counted, { dryRun: false })).toEqual([line]);
    expect([...w.cluster.records.keys()]).toEqual([newest]);
    expect(leftovers(w)).toEqual({ deployments: [], leases: [], disks: [newest] });
    expect(await reconcileRecords(counted, { dryRun: false })).toEqual([]);
  });

  it('tears down a record whose Deployment is gone past the grace period, keeping the disk of one that ran within the window', async () => {
    const w = world();
    const name = await create(w);
    w.cluster.deployments.delete(name); // by hand
    w.clock.advance(GRACE_MS + 1);
    expect(await reconcileRecords(sweeping(w), { dryRun: false })).toEqual([`tear down ${name}, whose Deployment is gone`]);
    // Kept for a restore, as a destroy would: the slots go, the disk and the record stay, destroyed.
    expect(leftovers(w)).toEqual({ deployments: [], leases: [], disks: [name] });
    expect(w.cluster.records.get(name)?.status.phase).toBe('destroyed');
  });

  it('tears down for good a record whose Deployment is gone when there is no restore window, or its create never made one', async () => {
    for (const [label, windowMs, phase] of [
      ['no window', 0, 'running'],
      ['an interrupted create', WINDOW_MS, 'provisioning'],
    ] as const) {
      const w = world();
      const name = await create(w);
      w.cluster.deployments.delete(name);
      await setStatus(w, name, { phase });
      w.clock.advance(GRACE_MS + 1);
      expect(await reconcileRecords({ ...sweeping(w), restoreWindowMs: windowMs }, { dryRun: false }), label).toEqual([
        `tear down ${name}, whose Deployment is gone`,
      ]);
      expect(leftovers(w), label).toEqual(NOTHING);
      expect([...w.cluster.records.keys()], label).toEqual([]);
    }
  });

  it("reports one record's failed teardown and goes on to the next, rather than failing the whole walk", async () => {
    const w = world();
    const [first, second] = [await create(w), await create(w)];
    w.cluster.deployments.delete(first);
    w.cluster.deployments.delete(second);
    w.clock.advance(GRACE_MS + 1);
    // Compute Engine refuses the first disk's delete, as at a quota.
    w.disks.faults.inject({ method: 'deleteDisk', nth: 1, when: 'before', error: () => new QuotaExceededError('Quota exceeded') });
    const failed: { kind: string; name: string; error: string }[] = [];
    const forGood = { ...sweeping(w), restoreWindowMs: 0 }; // no window: the disks are deleted
    const done = await reconcileRecords(forGood, { dryRun: false, failed });
    expect(failed).toEqual([{ kind: 'record', name: expect.any(String), error: expect.stringContaining('Quota exceeded') }]);
    const tornDown = done.map((line) => /^tear down (\S+), whose Deployment is gone$/.exec(line)?.[1]);
    expect([failed[0]?.name, ...tornDown].sort()).toEqual([first, second].sort());
    // The next walk finishes the one that failed.
    expect(await reconcileRecords(forGood, { dryRun: false })).toEqual([`tear down ${failed[0]!.name}, whose Deployment is gone`]);
    expect(leftovers(w)).toEqual(NOTHING);
  });

  it('leaves a young record alone, provisioning with no Deployment yet, and a running one with its Deployment', async () => {
    const w = world();
    const running = await create(w);
    await w.cluster.createRecord({
      apiVersion: 'allocator.dev/v1',
      kind: 'Instance',
      metadata: {
        name: 'syncbased-0000cafe',
        labels: {
          'allocator.dev/allocator': 'syncbased',
          'allocator.dev/owner-hash': ADA_HASH,
          'allocator.dev/instance': 'syncbased-0000cafe',
        },
      },
      spec: {
        owner: { email: ADA, subject: '1' },
        collaborators: [],
        parameters: {},
        mountName: '/ns/allocated/syncbased-0000cafe',
        version: 'v1',
        createdAt: new Date(w.clock.now()).toISOString(),
        disk: { name: 'syncbased-0000cafe', zone: 'us-central1-c' },
      },
      status: { phase: 'provisioning' },
    });
    w.clock.advance(GRACE_MS);
    const before = state(w);
    expect(await reconcileRecords(sweeping(w), { dryRun: false })).toEqual([]);
    expect(state(w)).toEqual(before);
    expect(w.cluster.records.get('syncbased-0000cafe')?.status).toEqual({ phase: 'provisioning' });
    expect(w.cluster.records.get(running)?.status).toEqual({ phase: 'running' });
  });

  it('removes a queued record whose waiter stopped holding it, with no grace period, and leaves one still held in line however old', async () => {
    const w = world();
    const queued = async (key: string): Promise<string> => {
      const plan = planCreate({
        config,
        template,
        caller: caller(ADA),
        request: { wait: false, waitMs: 60_000, idempotencyKey: key, queue: true },
        nowMs: w.clock.now(),
        random: w.random,
      });
      const made = await w.cluster.createRecord(
        queuedRecord({ record: recordOfPlan(plan, { serverName: 'syncbased', pooled: false }), nowMs: w.clock.now(), leaseMs: 20_000 }),
      );
      await w.cluster.replaceRecord({ ...made, status: queuedStatus({ holder: key, nowMs: w.clock.now(), leaseMs: 20_000 }) }, 'status');
      return made.metadata.name;
    };
    const gone = await queued('gone');
    const waiting = await queued('waiting');
    w.clock.advance(GRACE_MS + 1);
    // Its waiter renewed it just now: a conditional status write, as the queue makes it.
    await setStatus(w, waiting, queuedStatus({ holder: 'waiting', nowMs: w.clock.now(), leaseMs: 20_000 }));
    const before = structuredClone(w.cluster.records.get(waiting));
    expect(await reconcileRecords(sweeping(w), { dryRun: false })).toEqual([`remove the queued create ${gone}, whose waiter went away`]);
    expect([...w.cluster.records.keys()]).toEqual([waiting]);
    expect(w.cluster.records.get(waiting)).toEqual(before);
    expect(leftovers(w)).toEqual(NOTHING);
  });

  it('removes a dead queued record only as it read it: one renewed since stays', async () => {
    const w = world();
    const plan = planCreate({
      config,
      template,
      caller: caller(ADA),
      request: { wait: false, waitMs: 60_000, idempotencyKey: 'k', queue: true },
      nowMs: w.clock.now(),
      random: w.random,
    });
    const made = await w.cluster.createRecord(
      queuedRecord({ record: recordOfPlan(plan, { serverName: 'syncbased', pooled: false }), nowMs: w.clock.now(), leaseMs: 20_000 }),
    );
    w.clock.advance(20_001);
    // The sweep lists it dead; its waiter, back from a stall, renews it before the sweep's delete.
    const list = w.cluster.listRecords.bind(w.cluster);
    w.cluster.listRecords = async (options) => {
      const page = await list(options);
      await setStatus(w, made.metadata.name, queuedStatus({ holder: 'back', nowMs: w.clock.now(), leaseMs: 20_000 }));
      return page;
    };
    expect(await reconcileRecords(sweeping(w), { dryRun: false })).toEqual([
      `remove the queued create ${made.metadata.name}, whose waiter went away`,
    ]);
    expect(w.cluster.records.get(made.metadata.name)?.status.operation?.holder).toBe('back');
  });

  it('deletes a queue ticket Lease of the release before queued records once its waiter stopped renewing it, and leaves a live one', async () => {
    const w = world();
    const ticket = (name: string, renewedAgoMs: number): V1Lease => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: `${name}-ticket`,
        labels: {
          'allocator.dev/allocator': 'syncbased',
          'allocator.dev/ticket': 'create',
          'allocator.dev/owner-hash': ADA_HASH,
          'allocator.dev/instance': name,
        },
      },
      spec: {
        holderIdentity: `${name}/ab`,
        acquireTime: new Date(w.clock.now() - 60_000).toISOString().replace('Z', '000Z') as unknown as Date,
        renewTime: new Date(w.clock.now() - renewedAgoMs).toISOString().replace('Z', '000Z') as unknown as Date,
        leaseDurationSeconds: 20,
      },
    });
    await w.cluster.createLease(ticket('syncbased-dead', 20_001));
    await w.cluster.createLease(ticket('syncbased-live', 19_000));
    expect(await reconcileRecords(sweeping(w), { dryRun: true })).toEqual([
      'would delete the queue ticket syncbased-dead-ticket of a release before queued records',
    ]);
    expect([...w.cluster.leases.keys()]).toEqual(['syncbased-dead-ticket', 'syncbased-live-ticket']);
    await reconcileRecords(sweeping(w), { dryRun: false });
    expect([...w.cluster.leases.keys()]).toEqual(['syncbased-live-ticket']);
    w.clock.advance(1_001);
    await reconcileRecords(sweeping(w), { dryRun: false });
    expect([...w.cluster.leases.keys()]).toEqual([]);
  });

  it('carries a restore Lease of the release before records over to a destroyed record, and drops one past its window', async () => {
    const w = world();
    const kept = await create(w);
    const old = await create(w);
    for (const name of [kept, old]) {
      await destroyInstance(sweeping(w), { name });
      w.cluster.records.delete(name); // that release kept no record: only the Lease
    }
    await w.cluster.createLease(legacyLease(kept, '2026-11-25T11:00:00.000Z'));
    await w.cluster.createLease(legacyLease(old, '2026-11-24T11:00:00.000Z'));
    expect(await reconcileRecords(sweeping(w), { dryRun: false })).toEqual([
      `carry the restore Lease ${kept}-restore over to a record`,
      `carry the restore Lease ${old}-restore over to a record`,
      `drop ${old}, past its restore window`,
    ]);
    expect(leftovers(w)).toEqual({ deployments: [], leases: [], disks: [kept] });
    expect([...w.cluster.records.values()]).toEqual([
      {
        apiVersion: 'allocator.dev/v1',
        kind: 'Instance',
        metadata: {
          name: kept,
          uid: expect.any(String) as string,
          resourceVersion: expect.any(String) as string,
          creationTimestamp: '2026-11-25T12:00:00.100Z',
          labels: { 'allocator.dev/allocator': 'syncbased', 'allocator.dev/owner-hash': ADA_HASH, 'allocator.dev/instance': kept },
        },
        spec: {
          owner: { email: ADA, subject: '1' },
          collaborators: [],
          parameters: { size: 'large' },
          mountName: `/ns/allocated/${kept}`,
          version: 'v0',
          createdAt: '2026-11-24T08:00:00.000Z',
          disk: { name: kept, zone: '' },
        },
        status: { phase: 'destroyed', destroyedAt: '2026-11-25T11:00:00.000Z' },
      },
    ]);
  });

  it('changes nothing on a dry run, and says what it would do', async () => {
    const w = world();
    const held = await create(w);
    const orphan = await create(w);
    const destroyed = await create(w);
    const legacy = await create(w);
    await setStatus(w, held, {
      phase: 'restarting',
      operation: { kind: 'restart', holder: 'restart/x', deadline: new Date(w.clock.now()).toISOString(), from: 'running' },
    });
    w.cluster.deployments.delete(orphan);
    await destroyInstance(sweeping(w), { name: destroyed });
    await destroyInstance(sweeping(w), { name: legacy });
    w.cluster.records.delete(legacy);
    await w.cluster.createLease(legacyLease(legacy, '2026-11-25T12:00:00.000Z'));
    w.clock.advance(WINDOW_MS);
    const before = state(w);
    expect(await reconcileRecords(sweeping(w), { dryRun: true })).toEqual([
      `would carry the restore Lease ${legacy}-restore over to a record`,
      `would end the restart of ${held}, past its deadline, in running`,
      `would tear down ${orphan}, whose Deployment is gone`,
      `would drop ${destroyed}, past its restore window`,
    ]);
    expect(state(w)).toEqual(before);
  });
});
