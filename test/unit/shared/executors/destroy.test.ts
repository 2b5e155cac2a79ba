import type { V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../../shared/errors.ts';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { destroyInstance } from '../../../../shared/executors/destroy.ts';
import { transferInstance } from '../../../../shared/executors/transfer.ts';
import type { ClusterClient } from '../../../../shared/kube/cluster.ts';
import { planCreate } from '../../../../shared/plans/create-plan.ts';
import { accessAs, instanceOwnedBy } from '../../fakes/access.ts';
import { caller, config, template, world } from '../../fakes/world.ts';

type World = ReturnType<typeof world>;

/** Where in a caller's calls something else happens: right before its first call of `method`, or right after that call answered. */
type Moment = readonly ['before' | 'after', keyof ClusterClient];

/** `w`'s context, whose cluster runs each `then` once, at its moment. */
function racing(w: World, events: readonly { at: Moment; then: () => Promise<void> }[]): World['context'] {
  const pending = [...events];
  const due = async (when: 'before' | 'after', method: PropertyKey): Promise<void> => {
    for (const event of pending.filter((e) => e.at[0] === when && e.at[1] === method)) {
      pending.splice(pending.indexOf(event), 1);
      await event.then();
    }
  };
  const cluster = new Proxy(w.cluster, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      return async (...args: unknown[]) => {
        await due('before', key);
        const answer = await bound(...args);
        await due('after', key);
        return answer;
      };
    },
  });
  return { ...w.context, cluster };
}

/** A create with an Idempotency-Key: made again after a destroy, it has the same name (and so the same disk name). */
async function createKeyed(w: World): Promise<string> {
  const plan = planCreate({
    config,
    template,
    caller: caller('ada@example.com'),
    request: { wait: true, waitMs: 60_000, idempotencyKey: 'same-name' },
    nowMs: w.clock.now(),
    random: (bytes) => Buffer.alloc(bytes, 7), // the same slot names each time
  });
  return (await executeCreate(w.context, plan)).name;
}

/** The instance's parts as the API server and Compute Engine hold them: uids, owners, the disk's creation. */
function parts(w: World, name: string) {
  const slots = (lease: V1Lease) => ({ name: lease.metadata?.name, uid: lease.metadata?.uid, owners: lease.metadata?.ownerReferences });
  return {
    deployment: w.cluster.deployments.get(name)?.metadata?.uid,
    slots: [...w.cluster.leases.values()]
      .filter((lease) => lease.metadata?.labels?.['allocator.dev/instance'] === name && !lease.metadata?.labels?.['allocator.dev/lock'])
      .map(slots),
    locks: [...w.cluster.leases.keys()].filter((lease) => lease.endsWith('-lock')),
    disk: w.disks.disks.get(name),
  };
}

describe('a destroy racing a re-create of the same name', () => {
  // Between the destroy's read of the instance and its writes, another destroy removes the instance and a
  // create with the same Idempotency-Key makes it again: same name, same slot names, same disk name, same
  // owner. The first destroy must leave the new instance whole, wherever the race falls.
  it.each<[string, Moment, Moment]>([
    ['after its read of the Deployment, before it lists the slots', ['after', 'readDeployment'], ['after', 'readDeployment']],
    ['after it read the record, before it enters destroying', ['before', 'replaceRecord'], ['before', 'replaceRecord']],
    // The old instance gone and no new one yet when it deletes the Deployment: it must stop there, not go on to the disk.
    ['around its delete of the Deployment', ['before', 'replaceRecord'], ['after', 'deleteDeployment']],
  ])('leaves the new instance, its slots and its disk alone when the race falls %s', async (_where, destroyed, created) => {
    const w = world();
    const name = await createKeyed(w);
    const old = parts(w, name);
    let made: ReturnType<typeof parts> | undefined;
    const recreate = async (): Promise<void> => {
      w.clock.advance(1_000);
      expect(await createKeyed(w)).toBe(name);
      made = parts(w, name);
    };
    const context = racing(w, [
      { at: destroyed, then: async () => void (await destroyInstance(w.context, { name })) },
      { at: created, then: recreate },
    ]);
    const outcome = await destroyInstance(context, { name }).catch((error: unknown) => error);
    if (made === undefined) await recreate(); // the destroy stopped before that moment
    expect(parts(w, name)).toEqual(made);
    expect(outcome).toBeInstanceOf(NotFoundError);
    expect(outcome).toMatchObject({ message: `instance ${name} not found` });
    // The new instance is a new one, under the old names, with slots of its own.
    expect(made?.deployment).not.toBe(old.deployment);
    expect(made?.slots.map((slot) => slot.name)).toEqual(old.slots.map((slot) => slot.name));
    expect(made?.slots.map((slot) => slot.uid)).not.toEqual(old.slots.map((slot) => slot.uid));
    expect(made?.disk?.creationTimestamp).not.toBe(old.disk?.creationTimestamp);
    expect(made?.locks).toEqual([]);
  });

  it('leaves the new instance alone when it finishes a destroy already running', async () => {
    const w = world();
    const name = await createKeyed(w);
    w.cluster.deployments.get(name)!.metadata!.deletionTimestamp = new Date(); // a destroy that stopped after the delete
    let made: ReturnType<typeof parts> | undefined;
    const context = racing(w, [
      {
        at: ['after', 'readDeployment'],
        then: async () => {
          await destroyInstance(w.context, { name });
          w.clock.advance(1_000);
          expect(await createKeyed(w)).toBe(name);
          made = parts(w, name);
        },
      },
    ]);
    await expect(destroyInstance(context, { name })).rejects.toThrow(`instance ${name} not found`);
    expect(made?.deployment).toBeDefined();
    expect(parts(w, name)).toEqual(made);
  });
});

describe('a destroy racing an admin who transfers the instance (collision 6)', () => {
  it("refuses the previous owner's destroy once the instance is someone else's, however the two interleave", async () => {
    const w = world();
    const ada = caller('ada@example.com');
    const name = await instanceOwnedBy(w, ada.email);
    const admin = caller(config.admins[0]!);
    let transferred = false;
    // Ada's destroy reads the instance; before it enters destroying, an admin gives it to Bea.
    const context = racing(w, [
      {
        at: ['before', 'replaceRecord'],
        then: async () => {
          await transferInstance(accessAs(w, admin), { name, to: 'bea@example.com' });
          transferred = true;
        },
      },
    ]);
    const outcome = await destroyInstance({ ...context, caller: ada }, { name }).catch((error: unknown) => error);
    expect(transferred).toBe(true);
    expect(outcome).toBeInstanceOf(NotFoundError);
    expect(w.cluster.deployments.get(name)?.metadata?.annotations?.['allocator.dev/owner']).toBe('bea@example.com');
    expect(w.cluster.records.get(name)).toMatchObject({ spec: { owner: { email: 'bea@example.com' } }, status: { phase: 'running' } });
    expect(w.disks.disks.has(name)).toBe(true);
  });
});
