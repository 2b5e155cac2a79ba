import { describe, expect, it } from 'vitest';
import { AbortedError, AlreadyExistsError, QuotaExceededError, UnavailableError } from '../../../../shared/errors.ts';
import { blindNames } from '../../../../shared/executors/claim-slots.ts';
import { executeCreate, NameTakenError } from '../../../../shared/executors/create.ts';
import { suspendInstance } from '../../../../shared/executors/lifecycle.ts';
import { planCreate, type CreateRequest } from '../../../../shared/plans/create-plan.ts';
import { slotName } from '../../../../shared/plans/slots.ts';
import { caller, config, countingRandom, GRACE_MS, leftovers, NOTHING, template, world } from '../../fakes/world.ts';

const plan = (w: ReturnType<typeof world>, request: Partial<CreateRequest> = {}, email = 'ada@example.com') =>
  planCreate({
    config,
    template,
    caller: caller(email),
    request: { wait: true, waitMs: config.waitTimeoutMs, ...request },
    nowMs: w.clock.now(),
    random: w.random,
  });

/** The calls a create makes when nothing fails, in order. */
async function callsOfASuccessfulCreate(): Promise<{ cluster: string[]; disks: string[] }> {
  const w = world();
  await executeCreate(w.context, plan(w));
  return { cluster: w.cluster.faults.calls, disks: w.disks.faults.calls };
}

describe('executeCreate', () => {
  it('claims the slots, makes the disk and the Deployment, and waits', async () => {
    const w = world();
    w.cluster.readyAfterReads = 3;
    const p = plan(w);
    const instance = await executeCreate(w.context, p);
    expect(instance).toEqual({ ...p.instance, readyReplicas: 1, state: 'ready', endpoints: [] });
    expect(leftovers(w)).toEqual({
      deployments: [p.name],
      leases: [`syncbased-g-${p.slots.global.start}`, slotName(p.slots.user, 0)].sort(),
      disks: [p.name],
    });
    // Owned by nothing: a Deployment as their owner would make its foreground deletion wait for them, and free the limit early.
    expect([...w.cluster.leases.values()].map((lease) => lease.metadata?.ownerReferences)).toEqual([undefined, undefined]);
    expect(w.cluster.deployments.get(p.name)?.spec).toEqual(p.deployment.spec);
    expect(w.disks.disks.get(p.name)?.labels).toEqual(p.disk.labels);
    expect(w.events).toEqual([]);
  });

  it('answers without waiting when asked not to', async () => {
    const w = world();
    w.cluster.readyAfterReads = 1_000;
    const instance = await executeCreate(w.context, plan(w, { wait: false }));
    expect(instance.readyReplicas).toBe(0);
  });

  it('undoes everything when the instance is not ready in time, reading the clock it was given', async () => {
    const w = world();
    w.cluster.readyAfterReads = Number.POSITIVE_INFINITY;
    await expect(executeCreate(w.context, plan(w, { waitMs: 5_000 }))).rejects.toMatchObject({ status: 504 });
    expect(leftovers(w)).toEqual(NOTHING);
  });

  it('refuses with the per-user 429 and holds nothing', async () => {
    const w = world();
    await executeCreate(w.context, plan(w));
    const before = leftovers(w);
    await expect(executeCreate(w.context, plan(w, {}, 'ada@example.com'))).rejects.toThrow(QuotaExceededError);
    expect(leftovers(w)).toEqual(before);
  });

  it('refuses with the global 429 and gives back the per-user slot it took', async () => {
    const w = world();
    for (const email of ['a@x.test', 'b@x.test', 'c@x.test']) await executeCreate(w.context, plan(w, {}, email));
    const before = leftovers(w);
    await expect(executeCreate(w.context, plan(w, {}, 'd@x.test'))).rejects.toThrow(/already runs 3 instances/);
    expect(leftovers(w)).toEqual(before);
  });
});

describe('claiming slots', () => {
  it('takes a free global slot with one call, however many are taken, and lists only when the blind tries conflict', async () => {
    const w = world();
    const bigConfig = { ...config, limits: { perUser: 1, global: 5_000 } };
    const plan5000 = planCreate({
      config: bigConfig,
      template,
      caller: caller(),
      request: { wait: false, waitMs: 60_000 },
      nowMs: w.clock.now(),
      random: w.random,
    });
    for (let i = 0; i < 4_000; i += 1) {
      if (i !== plan5000.slots.global.start)
        await w.cluster.createLease({
          metadata: {
            name: `syncbased-g-${i}`,
            labels: { 'allocator.dev/allocator': 'syncbased', 'allocator.dev/slot': 'global', 'allocator.dev/instance': 'other' },
          },
        });
    }
    w.cluster.faults.calls.length = 0;
    await executeCreate(w.context, plan5000);
    expect(w.cluster.faults.calls.filter((call) => call === 'listLeases')).toEqual([]);
    expect(w.cluster.faults.calls.filter((call) => call === 'createLease')).toHaveLength(2); // one per pool

    // Every blind try taken: it lists and finds the one free slot left.
    const crowded = world();
    const small = { ...config, limits: { perUser: 1, global: 5 } };
    const plan = planCreate({
      config: small,
      template,
      caller: caller('bea@example.com'),
      request: { wait: false, waitMs: 60_000 },
      nowMs: crowded.clock.now(),
      random: crowded.random,
    });
    const free = (plan.slots.global.start + 3) % 5;
    for (let i = 0; i < 5; i += 1) {
      if (i !== free)
        await crowded.cluster.createLease({
          metadata: {
            name: `syncbased-g-${i}`,
            labels: { 'allocator.dev/allocator': 'syncbased', 'allocator.dev/slot': 'global', 'allocator.dev/instance': 'other' },
          },
        });
    }
    await executeCreate(crowded.context, plan);
    expect(crowded.cluster.leases.get(`syncbased-g-${free}`)?.spec?.holderIdentity).toBe(plan.slots.global.holder);
    await expect(
      executeCreate(
        crowded.context,
        planCreate({
          config: small,
          template,
          caller: caller('cy@example.com'),
          request: { wait: false, waitMs: 60_000 },
          nowMs: crowded.clock.now(),
          random: crowded.random,
        }),
      ),
    ).rejects.toThrow(/already runs 5 instances/);
  });
});

describe('claiming slots under churn', () => {
  it('lists again when others take the free slots it listed, and takes one freed since', async () => {
    const w = world();
    const small = { ...config, limits: { perUser: 1, global: 5 } };
    const p = planCreate({
      config: small,
      template,
      caller: caller('bea@example.com'),
      request: { wait: false, waitMs: 60_000 },
      nowMs: w.clock.now(),
      random: w.random,
    });
    const other = (name: string) => ({
      metadata: {
        name,
        labels: { 'allocator.dev/allocator': 'syncbased', 'allocator.dev/slot': 'global', 'allocator.dev/instance': 'other' },
      },
    });
    // The blind tries are start, start+1 and start+2; all taken. The list shows start+3 free.
    const listedFree = `syncbased-g-${(p.slots.global.start + 3) % 5}`;
    const freedLater = `syncbased-g-${(p.slots.global.start + 4) % 5}`;
    for (let i = 0; i < 5; i += 1) if (`syncbased-g-${i}` !== listedFree) await w.cluster.createLease(other(`syncbased-g-${i}`));
    // Another create takes the listed one first, and another destroy frees one that was listed as taken.
    const createLease = w.cluster.createLease.bind(w.cluster);
    let raced = false;
    w.cluster.createLease = async (lease) => {
      if (lease.metadata?.name === listedFree && !raced) {
        raced = true;
        await createLease(other(listedFree));
        w.cluster.leases.delete(freedLater);
      }
      return createLease(lease);
    };
    await executeCreate(w.context, p);
    expect(raced).toBe(true);
    expect(w.cluster.leases.get(freedLater)?.spec?.holderIdentity).toBe(p.slots.global.holder);
    expect(w.cluster.faults.calls.filter((call) => call === 'listLeases')).toHaveLength(2);
  });

  it('answers the 429 after one list when that list shows every slot taken', async () => {
    const w = world();
    const small = { ...config, limits: { perUser: 1, global: 5 } };
    for (let i = 0; i < 5; i += 1)
      await w.cluster.createLease({
        metadata: {
          name: `syncbased-g-${i}`,
          labels: { 'allocator.dev/allocator': 'syncbased', 'allocator.dev/slot': 'global', 'allocator.dev/instance': 'other' },
        },
      });
    w.cluster.faults.calls.length = 0;
    const p = planCreate({
      config: small,
      template,
      caller: caller('cy@example.com'),
      request: { wait: false, waitMs: 60_000 },
      nowMs: w.clock.now(),
      random: w.random,
    });
    await expect(executeCreate(w.context, p)).rejects.toThrow(/already runs 5 instances/);
    expect(w.cluster.faults.calls.filter((call) => call === 'listLeases')).toHaveLength(1);
  });
});

describe('the blind tries', () => {
  const pool = { prefix: 'g-', size: 10_000, start: 0 };

  it('are spread around the pool, so a run of taken names half the pool long never forces a list', () => {
    const taken = (name: string): boolean => Number(name.slice(2)) < 5_000;
    for (const start of [0, 1, 2_500, 4_997, 4_999, 9_999]) expect(blindNames({ ...pool, start }).some((name) => !taken(name))).toBe(true);
  });

  it('are distinct, also in a pool smaller than their number', () => {
    expect(blindNames({ ...pool, start: 9_999 })).toEqual(['g-9999', 'g-3332', 'g-6665']);
    expect(blindNames({ prefix: 'g-', size: 2, start: 1 })).toEqual(['g-1', 'g-0']);
    expect(blindNames({ prefix: 'g-', size: 5, start: 3 })).toEqual(['g-3', 'g-4', 'g-0']);
  });
});

describe('a failure at any step of create leaves nothing behind', async () => {
  const calls = await callsOfASuccessfulCreate();
  const steps = [
    ...calls.cluster.map((method, i) => ['cluster', method, calls.cluster.slice(0, i + 1).filter((m) => m === method).length] as const),
    ...calls.disks.map((method, i) => ['disks', method, calls.disks.slice(0, i + 1).filter((m) => m === method).length] as const),
  ];

  it.each(steps.flatMap((step) => (['before', 'after'] as const).map((when) => [...step, when] as const)))(
    '%s.%s call %i failing %s it acts',
    async (adapter, method, nth, when) => {
      const w = world();
      const fakes = adapter === 'cluster' ? w.cluster : w.disks;
      fakes.faults.inject({ method, nth, when, error: () => new UnavailableError(`${method}: connection reset`) });
      await expect(executeCreate(w.context, plan(w))).rejects.toThrow(/connection reset/);
      expect(leftovers(w)).toEqual(NOTHING);
      expect(w.events).toEqual([]);
    },
  );

  it('including a disk insert whose answer was lost after the disk was made', async () => {
    const w = world();
    w.disks.faults.inject({ method: 'createDisk', when: 'after', error: () => new UnavailableError('create disk: socket hang up') });
    await expect(executeCreate(w.context, plan(w))).rejects.toMatchObject({ status: 503 });
    expect(leftovers(w)).toEqual(NOTHING);
  });

  it('and reports in the log what it could not undo', async () => {
    const w = world();
    w.cluster.readyAfterReads = Number.POSITIVE_INFINITY;
    w.disks.faults.inject({ method: 'getDisk', when: 'before', error: () => new Error('permission denied on disks.get') });
    await expect(executeCreate(w.context, plan(w, { waitMs: 1_000 }))).rejects.toMatchObject({ status: 504 });
    expect(w.events).toEqual([expect.stringMatching(/^could not undo the disk syncbased-[0-9a-f]{8}: permission denied on disks.get$/)]);
    expect(leftovers(w).disks).toHaveLength(1); // left for the sweep, and said so
  });
});

describe('a create with an Idempotency-Key', () => {
  it('gives its slots back when another try of its key, planned in the same millisecond, made the instance first', async () => {
    const w = world();
    const p = plan(w, { idempotencyKey: 'k1' });
    // This try reads the name free, then the other try makes the whole instance before this one's first write.
    let other: Promise<unknown> | undefined;
    const cluster = new Proxy(w.cluster, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        const call = (value as (...args: unknown[]) => Promise<unknown>).bind(target);
        if (property !== 'createRecord' && property !== 'createLease') return call;
        return async (...args: unknown[]) => {
          await (other ??= executeCreate(w.context, p));
          return await call(...args);
        };
      },
    });
    await expect(executeCreate({ ...w.context, cluster }, p)).rejects.toThrow(); // over the limit, or still in progress
    // Only the made instance's slots: the Deployment of the same creation time is not this try's, which never sent one.
    expect(leftovers(w)).toEqual({
      deployments: [p.name],
      leases: [`syncbased-g-${p.slots.global.start}`, slotName(p.slots.user, 0)].sort(),
      disks: [p.name],
    });
  });

  it('answers a retry with the instance the first try made', async () => {
    const w = world();
    const first = await executeCreate(w.context, plan(w, { idempotencyKey: 'k1' }));
    const again = await executeCreate(w.context, plan(w, { idempotencyKey: 'k1' }));
    expect(again).toEqual(first);
    expect(leftovers(w).deployments).toEqual([first.name]);
  });

  it('answers 409 ABORTED while the first try is still making the instance', async () => {
    const w = world();
    const first = plan(w, { idempotencyKey: 'k1' });
    w.cluster.faults.inject({ method: 'createDeployment', when: 'before', error: () => new Error('unreachable') });
    // The first try's slots and disk exist, its Deployment does not yet: as if it were still running.
    await w.cluster.createLease({
      metadata: { name: slotName(first.slots.user, 0), labels: { ...first.slots.user.labels } },
      spec: { holderIdentity: first.slots.user.holder },
    });
    const retry = executeCreate(w.context, plan(w, { idempotencyKey: 'k1' }));
    await expect(retry).rejects.toThrow(AbortedError);
    await expect(retry).rejects.toMatchObject({ status: 409, statusName: 'ABORTED', retryAfterSeconds: 5 });
  });

  it('clears what an interrupted try left, once it is older than the grace period, and creates the instance', async () => {
    const w = world();
    const first = plan(w, { idempotencyKey: 'k1' });
    await w.cluster.createLease({
      metadata: { name: slotName(first.slots.user, 0), labels: { ...first.slots.user.labels } },
      spec: { holderIdentity: first.slots.user.holder },
    });
    await w.disks.createDisk(first.disk);
    w.clock.advance(GRACE_MS + 1);
    const retry = plan(w, { idempotencyKey: 'k1' });
    const instance = await executeCreate(w.context, retry);
    expect(instance.name).toBe(first.name);
    expect(leftovers(w)).toEqual({
      deployments: [first.name],
      leases: [`syncbased-g-${retry.slots.global.start}`, slotName(first.slots.user, 0)].sort(),
      disks: [first.name],
    });
    expect([...w.cluster.leases.values()].every((lease) => lease.metadata?.labels?.['allocator.dev/instance'] === first.name)).toBe(true);
    expect(w.events).toEqual([
      expect.stringMatching(/clearing 1 slot\(s\) left by an interrupted create/),
      expect.stringMatching(/clearing the disk left by an interrupted create/),
    ]);
  });

  it("answers 409 ALREADY_EXISTS, not to be retried, for a disk of that name that is not this allocator's, and leaves it alone", async () => {
    const w = world();
    const p = plan(w, { idempotencyKey: 'k1' });
    await w.disks.createDisk({ name: p.name, sizeGb: 1, type: 'pd-ssd', labels: { team: 'someone-else' } });
    const attempt = executeCreate(w.context, p);
    await expect(attempt).rejects.toThrow(AlreadyExistsError);
    await expect(attempt).rejects.toMatchObject({
      statusName: 'ALREADY_EXISTS',
      message: expect.stringMatching(/is not this allocator's; it was left alone/),
    });
    expect(leftovers(w)).toEqual({ ...NOTHING, disks: [p.name] });
  });

  it('answers a retry with the same parameters, and refuses the same key with others as a different request, making nothing', async () => {
    const w = world();
    const first = await executeCreate(w.context, plan(w, { idempotencyKey: 'k1', parameters: { imageTag: 'pr-1' } }));
    expect(first.parameters).toEqual({ imageTag: 'pr-1' });
    expect(await executeCreate(w.context, plan(w, { idempotencyKey: 'k1', parameters: { imageTag: 'pr-1' } }))).toEqual(first);
    const before = leftovers(w);
    const calls = w.disks.faults.calls.length;
    for (const parameters of [{ imageTag: 'pr-2' }, {}] as Record<string, string>[]) {
      await expect(executeCreate(w.context, plan(w, { idempotencyKey: 'k1', parameters }))).rejects.toMatchObject({
        status: 409,
        statusName: 'ALREADY_EXISTS',
        message: expect.stringMatching(/made syncbased-[0-9a-f]{8} with other parameters \(imageTag\): a different request; use a new key/),
      });
    }
    expect(leftovers(w)).toEqual(before);
    expect(w.disks.faults.calls.length).toBe(calls);
  });

  it('answers 409 ALREADY_EXISTS when the key made another instance', async () => {
    const w = world();
    const p = plan(w, { idempotencyKey: 'k1' });
    await w.cluster.createDeployment({ ...p.deployment, metadata: { ...p.deployment.metadata, annotations: {} } });
    await expect(executeCreate(w.context, p)).rejects.toMatchObject({
      statusName: 'ALREADY_EXISTS',
      message: expect.stringMatching(/already used for another instance/),
    });
  });
});

describe('create never deletes a disk it cannot prove its own', () => {
  /** Randomness whose first draw (a create's name without a key) is fixed: two creates draw the same name. */
  const drawing = (first: number) => {
    const rest = countingRandom();
    let drawn = false;
    return (bytes: number) => {
      if (drawn) return rest(bytes);
      drawn = true;
      return Buffer.alloc(bytes, first);
    };
  };

  it("leaves a suspended instance's disk alone when a create without a key draws its name, and says the name is taken", async () => {
    const w = world();
    const suspendedPlan = planCreate({
      config: { ...config, limits: { perUser: 1, global: 3 } },
      template,
      caller: caller('ada@example.com'),
      request: { wait: true, waitMs: 60_000 },
      nowMs: w.clock.now(),
      random: drawing(7),
    });
    await executeCreate(w.context, suspendedPlan);
    await suspendInstance(w.context, { name: suspendedPlan.name });
    const disk = await w.disks.getDisk(suspendedPlan.name);
    expect(disk?.users ?? []).toEqual([]); // detached: a delete would succeed
    w.clock.advance(GRACE_MS + 1); // past the grace period: old enough to pass for a leftover

    const colliding = planCreate({
      config,
      template,
      caller: caller('bob@example.com'),
      request: { wait: true, waitMs: 60_000 },
      nowMs: w.clock.now(),
      random: drawing(7),
    });
    expect(colliding.name).toBe(suspendedPlan.name);
    await expect(executeCreate(w.context, colliding)).rejects.toThrow(NameTakenError);

    expect(await w.disks.getDisk(suspendedPlan.name)).toEqual(disk); // the same disk: same id, same creation time
    expect(w.cluster.deployments.get(suspendedPlan.name)?.metadata?.annotations?.['allocator.dev/owner']).toBe('ada@example.com');
    expect(leftovers(w)).toEqual({ deployments: [suspendedPlan.name], leases: expect.any(Array), disks: [suspendedPlan.name] });
    expect([...w.cluster.leases.values()].every((lease) => lease.metadata?.labels?.['allocator.dev/instance'] === suspendedPlan.name)).toBe(
      true,
    );
  });

  it("leaves alone a keyed create's disk of the name that carries another owner's hash, however old", async () => {
    const w = world();
    const p = plan(w, { idempotencyKey: 'k1' });
    await w.disks.createDisk({ ...p.disk, labels: { ...p.disk.labels, 'allocator-owner-hash': 'f'.repeat(40) } });
    w.clock.advance(GRACE_MS + 1);
    await expect(executeCreate(w.context, p)).rejects.toMatchObject({
      statusName: 'ALREADY_EXISTS',
      message: expect.stringMatching(/not a leftover of yours/),
    });
    expect(leftovers(w)).toEqual({ ...NOTHING, disks: [p.name] });
  });
});

describe('a Deployment that could not be removed', () => {
  it('keeps what it needs when its answer is lost and its undo fails: its record, slots and disk, within the limits', async () => {
    const w = world();
    const p = plan(w);
    w.cluster.faults.inject({ method: 'createDeployment', when: 'after', error: () => new UnavailableError('injected') });
    // The undo's read of the Deployment fails, and so does the guard's: whether it stands cannot be known.
    w.cluster.faults.inject({ method: 'readDeployment', when: 'before', error: () => new UnavailableError('injected') });
    await expect(executeCreate(w.context, p)).rejects.toThrow(UnavailableError);
    expect(w.events).toContainEqual(expect.stringMatching(new RegExp(`^could not undo the Deployment ${p.name}`)));
    expect(w.events).toContainEqual(`kept the record, slots and disk of ${p.name}: its Deployment could not be removed`);
    expect(w.cluster.deployments.has(p.name)).toBe(true);
    const slots = [...w.cluster.leases.values()]
      .filter((lease) => lease.metadata?.labels?.['allocator.dev/instance'] === p.name)
      .map((lease) => lease.metadata?.labels?.['allocator.dev/slot'])
      .sort();
    expect(slots).toEqual(['global', 'user']);
    expect(w.cluster.records.has(p.name)).toBe(true);
    expect(w.disks.disks.has(p.name)).toBe(true);
    // The limit holds: the same caller's next create is refused rather than let past an instance that stands.
    await expect(executeCreate(w.context, plan(w))).rejects.toThrow(QuotaExceededError);
  });
});
