import { describe, expect, it } from 'vitest';
import { AbortedError, DeadlineExceededError } from '../../../../shared/errors.ts';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { tearDown } from '../../../../shared/executors/destroy.ts';
import type { V1Lease } from '@kubernetes/client-node';
import { LABELS, LEGACY_TICKET_LABEL, QUEUED_LABEL } from '../../../../shared/instances/metadata.ts';
import { ownerHashOf } from '../../../../shared/instances/naming.ts';
import type { CreateRequest } from '../../../../shared/plans/create-plan.ts';
import { isLive, placeOf } from '../../../../shared/plans/queue.ts';
import { reconcileRecords } from '../../../../shared/executors/sweep-records.ts';
import { GRACE_MS, planOf, world } from '../../fakes/world.ts';

type World = ReturnType<typeof world>;
const limits = { perUser: 2, global: 2 };

const plan = (w: World, email: string, request: Partial<CreateRequest> = {}) => planOf(w, { email, limits, request });

/** A queued create of `email` with `key`, as its handler runs it: the error it answers, or its instance's name. */
async function queued(w: World, email: string, key: string, request: Partial<CreateRequest> = {}): Promise<string | Error> {
  return await executeCreate(w.context, plan(w, email, { queue: true, idempotencyKey: key, ...request })).then(
    (instance) => instance.name,
    (error: unknown) => error as Error,
  );
}

/** Two instances of people not in line: the global limit is reached. */
async function full(w: World): Promise<string[]> {
  return [
    (await executeCreate(w.context, plan(w, 'bob@example.com'))).name,
    (await executeCreate(w.context, plan(w, 'cy@example.com'))).name,
  ];
}

const line = (w: World) => [...w.cluster.records.values()].filter((record) => record.status.phase === 'queued');

describe('a queued create', () => {
  it('is its record in phase queued, held by its waiter, and counts toward no limit', async () => {
    const w = world();
    await full(w);
    const answer = await queued(w, 'ada@example.com', 'k');
    expect(answer).toBeInstanceOf(AbortedError);
    expect((answer as Error).message).toMatch(/queued for a slot: 0 ahead/);
    const [record, ...more] = line(w);
    expect(more).toEqual([]);
    expect(record?.metadata.labels[QUEUED_LABEL]).toBe('create');
    expect(record?.spec.owner.email).toBe('ada@example.com');
    expect(record?.spec.queue).toEqual({ since: new Date(w.clock.now()).toISOString(), leaseSeconds: 20 });
    expect(record?.status.operation).toMatchObject({ kind: 'create', from: 'queued' });
    expect(isLive(placeOf(record!), w.clock.now() + 20_000)).toBe(true);
    // No slot, no disk, no Deployment: the two instances' slots only.
    expect([...w.cluster.leases.keys()]).toHaveLength(4);
    expect(w.disks.disks.has(record!.metadata.name)).toBe(false);
    expect(w.cluster.deployments.has(record!.metadata.name)).toBe(false);
  });

  it('claims in turn once a slot frees, and moves its record on as the plan of the request that claimed, out of the line', async () => {
    const w = world();
    const [bobs] = await full(w);
    expect(await queued(w, 'ada@example.com', 'k')).toBeInstanceOf(AbortedError);
    const since = line(w)[0]?.spec.queue?.since;
    w.clock.advance(5_000);
    await tearDown({ ...w.context, restoreWindowMs: 0, keptPerUser: 2 }, { name: bobs!, bySweep: true }); // its slots go with it
    const resent = plan(w, 'ada@example.com', { queue: true, idempotencyKey: 'k' });
    const made = await executeCreate(w.context, resent);
    expect(line(w)).toEqual([]);
    const record = w.cluster.records.get(made.name);
    expect(record?.metadata.labels).not.toHaveProperty(QUEUED_LABEL);
    expect(record?.spec).not.toHaveProperty('queue');
    expect(record?.spec.createdAt).toBe(resent.createdAt);
    expect(record?.status).toEqual({ phase: 'running' });
    expect(since).toBeDefined();
  });

  it('gives up past its queue timeout: a 504, and its record goes', async () => {
    const w = world();
    await full(w);
    expect(await queued(w, 'ada@example.com', 'k', { queueTimeoutSeconds: 3 })).toBeInstanceOf(AbortedError);
    expect(line(w)[0]?.spec.queue?.timeoutAt).toBe(new Date(w.clock.now() + 3_000).toISOString());
    w.clock.advance(3_000);
    const answer = await queued(w, 'ada@example.com', 'k', { queueTimeoutSeconds: 3 });
    expect(answer).toBeInstanceOf(DeadlineExceededError);
    expect((answer as Error).message).toMatch(/within 3 s in the queue \(0 still ahead\); its place in line was given up/);
    expect([...w.cluster.records.keys()].filter((name) => w.cluster.records.get(name)?.spec.owner.email === 'ada@example.com')).toEqual([]);
  });

  it('passes over a dead place, and removes it', async () => {
    const w = world();
    await full(w);
    expect(await queued(w, 'dan@example.com', 'gone')).toBeInstanceOf(AbortedError);
    w.clock.advance(1_000);
    expect(await queued(w, 'ada@example.com', 'k')).toMatchObject({ message: expect.stringMatching(/1 ahead/) });
    w.clock.advance(20_000);
    // Dan's waiter went away 21 s ago: Ada's next look passes his place over and removes it.
    expect(await queued(w, 'ada@example.com', 'k')).toMatchObject({ message: expect.stringMatching(/0 ahead/) });
    expect(line(w).map((record) => record.spec.owner.email)).toEqual(['ada@example.com']);
  });

  it('takes a new place, at the back, once its own record died unrenewed and was removed', async () => {
    const w = world();
    await full(w);
    expect(await queued(w, 'ada@example.com', 'k')).toBeInstanceOf(AbortedError);
    const first = structuredClone(line(w)[0]!);
    w.clock.advance(1_000);
    expect(await queued(w, 'bea@example.com', 'b')).toMatchObject({ message: expect.stringMatching(/1 ahead/) });
    w.clock.advance(25_000); // both dead: nobody renewed either
    await expect(queued(w, 'ada@example.com', 'k')).resolves.toMatchObject({ message: expect.stringMatching(/0 ahead/) });
    const again = line(w).find((record) => record.spec.owner.email === 'ada@example.com');
    expect(again?.metadata.uid).not.toBe(first.metadata.uid);
    expect(again?.spec.queue?.since).toBe(new Date(w.clock.now()).toISOString());
  });

  it("keeps, for a re-send that reaches this release, the place of the live ticket a release before queued records took; not a dead one's", async () => {
    const w = world();
    await full(w);
    const now = w.clock.now();
    /** A ticket Lease as that release wrote it, for `email`'s create with `key`. */
    const ticket = async (email: string, key: string, takenAgoMs: number, renewedAgoMs: number): Promise<string> => {
      const instance = plan(w, email, { queue: true, idempotencyKey: key }).name;
      const micro = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z') as unknown as Date;
      const lease: V1Lease = {
        metadata: {
          name: `${instance}-ticket`,
          labels: {
            [LABELS.allocator]: 'syncbased',
            [LEGACY_TICKET_LABEL]: 'create',
            [LABELS.ownerHash]: ownerHashOf(email),
            [LABELS.instance]: instance,
          },
        },
        spec: {
          holderIdentity: `${instance}/ab`,
          acquireTime: micro(now - takenAgoMs),
          renewTime: micro(now - renewedAgoMs),
          leaseDurationSeconds: 20,
        },
      };
      await w.cluster.createLease(lease);
      return instance;
    };
    const adas = await ticket('ada@example.com', 'k', 5_000, 1_000);
    const dans = await ticket('dan@example.com', 'd', 9_000, 21_000);
    expect(await queued(w, 'bea@example.com', 'b')).toMatchObject({ message: expect.stringMatching(/0 ahead/) });
    // Ada's ticket is live and older than Bea's place: her re-send keeps its place, ahead of Bea, and the ticket goes.
    expect(await queued(w, 'ada@example.com', 'k')).toMatchObject({ message: expect.stringMatching(/0 ahead/) });
    expect(w.cluster.records.get(adas)?.spec.queue?.since).toBe(new Date(now - 5_000).toISOString());
    expect(w.cluster.leases.has(`${adas}-ticket`)).toBe(false);
    // Dan's ticket died: his re-send joins at the back; the sweep deletes the ticket.
    expect(await queued(w, 'dan@example.com', 'd')).toMatchObject({ message: expect.stringMatching(/2 ahead/) });
    expect(w.cluster.records.get(dans)?.spec.queue?.since).toBe(new Date(w.clock.now()).toISOString());
    expect(w.cluster.leases.has(`${dans}-ticket`)).toBe(true);
    const order = line(w).sort((a, b) => Date.parse(a.spec.queue!.since) - Date.parse(b.spec.queue!.since));
    expect(order.map((record) => record.spec.owner.email)).toEqual(['ada@example.com', 'bea@example.com', 'dan@example.com']);
  });

  it('is no interrupted create to a sweep that runs between its claim and its Deployment, however long it waited in line', async () => {
    const w = world();
    const [bobs] = await full(w);
    const startedAt = w.clock.now();
    expect(await queued(w, 'ada@example.com', 'k')).toBeInstanceOf(AbortedError);
    // Re-sent again and again, each request waiting its bound: in line for longer than the sweep's grace period.
    while (w.clock.now() - startedAt <= GRACE_MS) expect(await queued(w, 'ada@example.com', 'k')).toBeInstanceOf(AbortedError);
    await tearDown({ ...w.context, restoreWindowMs: 0, keptPerUser: 2 }, { name: bobs!, bySweep: true }); // nothing of it left for the sweep
    const swept: string[] = [];
    const createDeployment = w.cluster.createDeployment.bind(w.cluster);
    w.cluster.createDeployment = async (deployment) => {
      swept.push(...(await reconcileRecords({ ...w.context, restoreWindowMs: 0, keptPerUser: 2, graceMs: GRACE_MS }, { dryRun: false })));
      return await createDeployment(deployment);
    };
    const name = await queued(w, 'ada@example.com', 'k');
    expect(swept).toEqual([]);
    expect(typeof name).toBe('string');
    expect(w.cluster.records.get(name as string)?.status).toEqual({ phase: 'running' });
    expect(w.cluster.deployments.has(name as string)).toBe(true);
  });
});
