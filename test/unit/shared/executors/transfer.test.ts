import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { CallerIdentity } from '../../../../shared/auth/identity.ts';
import { BadRequestError, NotFoundError, PermissionDeniedError, QuotaExceededError, UnavailableError } from '../../../../shared/errors.ts';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { extendInstance } from '../../../../shared/executors/extend.ts';
import { runSweep } from '../../../../shared/executors/run-sweep.ts';
import { shareInstance } from '../../../../shared/executors/share.ts';
import { transferInstance } from '../../../../shared/executors/transfer.ts';
import { ANNOTATIONS, LABELS } from '../../../../shared/instances/metadata.ts';
import { ownerHashOf } from '../../../../shared/instances/naming.ts';
import { planCreate } from '../../../../shared/plans/create-plan.ts';
import { accessAs, instanceOwnedBy } from '../../fakes/access.ts';
import { caller, config, GRACE_MS, template, world } from '../../fakes/world.ts';

type World = ReturnType<typeof world>;

const ADA = caller('ada@example.com');
const ROOT: CallerIdentity = { email: 'root@example.com', subject: '99', kind: 'user' };

/** The per-user slots held for `name`, by the owner hash on each. */
function userSlotOwners(w: World, name: string): string[] {
  return [...w.cluster.leases.values()]
    .filter((lease) => lease.metadata?.labels?.['allocator.dev/slot'] === 'user' && lease.metadata.labels[LABELS.instance] === name)
    .map((lease) => lease.metadata?.labels?.[LABELS.ownerHash] ?? '')
    .sort();
}

function ownerOf(deployment: V1Deployment | undefined): { email?: string; hash?: string } {
  return { email: deployment?.metadata?.annotations?.[ANNOTATIONS.owner], hash: deployment?.metadata?.labels?.[LABELS.ownerHash] };
}

describe('transferInstance', () => {
  it("drops the old owner's Idempotency-Key: their create retried with it is a 409, not the new owner's instance", async () => {
    const w = world();
    const keyed = (email: string) =>
      planCreate({
        config,
        template,
        caller: caller(email),
        request: { wait: false, waitMs: 60_000, idempotencyKey: 'k1' },
        nowMs: w.clock.now(),
        random: w.random,
      });
    const { name } = await executeCreate(w.context, keyed('ada@example.com'));
    await transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' });
    await expect(executeCreate(w.context, keyed('ada@example.com'))).rejects.toThrow(/Idempotency-Key was already used/);
  });

  it("claims the new owner's slot, makes them the owner, keeps the creator, and lets the old slot go", async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    const instance = await transferInstance(accessAs(w, ADA), { name, to: 'Bea@Example.com' });
    expect(instance).toMatchObject({ name, owner: 'bea@example.com', accessList: { In: ['bea@example.com', 'root@example.com'] } });
    const deployment = w.cluster.deployments.get(name);
    expect(ownerOf(deployment)).toEqual({ email: 'bea@example.com', hash: ownerHashOf('bea@example.com') });
    const annotations = deployment?.metadata?.annotations ?? {};
    expect(annotations[ANNOTATIONS.ownerSubject]).toBeUndefined(); // pinned at bea's first call
    expect(w.cluster.records.get(name)).toMatchObject({
      spec: { creator: 'ada@example.com' },
      status: { previousOwner: 'ada@example.com' },
    });
    expect(Object.keys(annotations).filter((key) => /creator|previous-owner/.test(key))).toEqual(['v.io/creator-info']);
    expect(JSON.parse(annotations['v.io/creator-info'] ?? '')).toMatchObject({ email: 'ada@example.com' });
    expect(deployment?.metadata?.labels?.ownerHash).toBe(ownerHashOf('bea@example.com')); // the template's own label, rendered again
    expect(userSlotOwners(w, name)).toEqual([ownerHashOf('bea@example.com')]);
    expect([...w.cluster.leases.keys()].filter((lease) => lease.startsWith('syncbased-g-'))).toHaveLength(1);
    expect([...w.cluster.leases.keys()].filter((lease) => lease.endsWith('-lock'))).toEqual([]);
  });

  it('keeps a suspended instance suspended and leaves its disk alone', async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    await w.cluster.patchDeployment(name, { spec: { replicas: 0 } });
    const before = w.disks.faults.calls.length;
    await transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' });
    expect(w.cluster.deployments.get(name)?.spec?.replicas).toBe(0);
    expect(w.disks.faults.calls.length).toBe(before);
  });

  it("answers the new owner's 429, in their words, and changes nothing when they are at their limit", async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    await instanceOwnedBy(w, 'bea@example.com');
    const specs = () => [...w.cluster.deployments.values()].map((d) => ({ metadata: d.metadata, spec: d.spec }));
    const deployments = structuredClone(specs());
    const leases = [...w.cluster.leases.keys()].sort();
    const transfer = transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' });
    await expect(transfer).rejects.toThrow(QuotaExceededError);
    await expect(transfer).rejects.toThrow(/^bea@example.com already has 1 instance, the most allowed per user/);
    expect(specs()).toEqual(deployments);
    expect([...w.cluster.leases.keys()].sort()).toEqual(leases);
  });

  it.each([
    ['to its owner', ADA, 'ada@example.com', BadRequestError, /you already own/],
    ['to an email that may not call', ADA, 'eve@elsewhere.test', BadRequestError, /eve@elsewhere.test may not use this allocator/],
    ['to something not an email', ADA, 'sub:123', BadRequestError, /"sub:123" is not an email/],
    ['by a stranger', caller('eve@example.com'), 'eve@example.com', NotFoundError, /not found/],
  ])('refuses a transfer %s', async (_case, who, to, type, message) => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    const transfer = transferInstance(accessAs(w, who, { allowedCallers: ['*@example.com'] }), { name, to });
    await expect(transfer).rejects.toThrow(type);
    await expect(transfer).rejects.toThrow(message);
    expect(ownerOf(w.cluster.deployments.get(name)).email).toBe('ada@example.com');
  });

  it('refuses a collaborator with a 403: only the owner or an admin may transfer', async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    await shareInstance(accessAs(w, ADA), { name, emails: ['cy@example.com'] });
    await expect(transferInstance(accessAs(w, caller('cy@example.com')), { name, to: 'cy@example.com' })).rejects.toThrow(
      PermissionDeniedError,
    );
  });

  it("lets an admin transfer anyone's instance, and drops the new owner from its collaborators", async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    await shareInstance(accessAs(w, ADA), { name, emails: ['bea@example.com', 'cy@example.com'] });
    const instance = await transferInstance(accessAs(w, ROOT), { name, to: 'bea@example.com' });
    expect(instance).toMatchObject({ owner: 'bea@example.com', collaborators: ['cy@example.com'] });
    expect(instance).toMatchObject({ accessList: { In: ['bea@example.com', 'cy@example.com', 'root@example.com'] } });
  });

  it("answers the old owner's retry of a transfer done (a lost answer), and an admin's, changing nothing", async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    await transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' });
    // What was asked for (the fake's status moves on at each read, as a controller's would).
    const asked = () => ({ metadata: w.cluster.deployments.get(name)?.metadata, spec: w.cluster.deployments.get(name)?.spec });
    const after = structuredClone(asked());
    await expect(transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' })).resolves.toMatchObject({ owner: 'bea@example.com' });
    await expect(transferInstance(accessAs(w, ROOT), { name, to: 'bea@example.com' })).resolves.toMatchObject({ owner: 'bea@example.com' });
    expect(asked()).toEqual(after);
    expect(userSlotOwners(w, name)).toEqual([ownerHashOf('bea@example.com')]);
    // Another transfer by the old owner is a stranger's.
    await expect(transferInstance(accessAs(w, ADA), { name, to: 'cy@example.com' })).rejects.toThrow(NotFoundError);
  });

  it("records a transfer whose Deployment passed though a later step failed: the old owner's retry is answered as done", async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    // The Services and ConfigMaps follow the Deployment's owner after its patch: that list fails.
    w.objects.faults.inject({ method: 'list', nth: 1, when: 'before', error: () => new UnavailableError('list: connection reset') });
    await expect(transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' })).rejects.toThrow(/connection reset/);
    expect(ownerOf(w.cluster.deployments.get(name)).email).toBe('bea@example.com');
    expect(w.cluster.records.get(name)).toMatchObject({
      spec: { owner: { email: 'bea@example.com' }, creator: 'ada@example.com' },
      status: { phase: 'running', previousOwner: 'ada@example.com' },
    });
    await expect(transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' })).resolves.toEqual({
      name,
      owner: 'bea@example.com',
      transferred: true,
    });
  });

  it("answers the old owner's retry of a transfer an earlier release made, from what that release wrote on the Deployment", async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    await transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' });
    // As that release left it: the creator and the previous owner as annotations, and no record yet.
    const deployment = w.cluster.deployments.get(name)!;
    deployment.metadata!.annotations = {
      ...deployment.metadata!.annotations,
      'allocator.dev/creator': 'ada@example.com',
      'allocator.dev/previous-owner': 'ada@example.com',
    };
    w.cluster.records.delete(name);
    // Its first touch, this retry, writes its record from the Deployment, and answers from it.
    await expect(transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' })).resolves.toMatchObject({ transferred: true });
    expect(w.cluster.records.get(name)).toMatchObject({
      spec: { creator: 'ada@example.com' },
      status: { previousOwner: 'ada@example.com' },
    });
  });

  it("pins the new owner's account id at their first call, and an account with the same email that calls later owns nothing", async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    await transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' });
    const bea: CallerIdentity = { email: 'bea@example.com', subject: '42', kind: 'user' };
    await extendInstance({ ...accessAs(w, bea), lifetime: config.lifetime }, { name });
    expect(w.cluster.deployments.get(name)?.metadata?.annotations?.[ANNOTATIONS.ownerSubject]).toBe('42');
    const other: CallerIdentity = { email: 'bea@example.com', subject: '43', kind: 'user' };
    await expect(extendInstance({ ...accessAs(w, other), lifetime: config.lifetime }, { name })).rejects.toThrow(NotFoundError);
  });
});

/** The cluster calls of a transfer that nothing stops, in order. */
async function callsOfASuccessfulTransfer(): Promise<string[]> {
  const w = world();
  const name = await instanceOwnedBy(w, 'ada@example.com');
  w.cluster.faults.calls.length = 0;
  await transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' });
  return [...w.cluster.faults.calls];
}

describe('a failure at any step of a transfer leaves one owner, and the sweep or a retry repairs the slots', async () => {
  const calls = await callsOfASuccessfulTransfer();
  const steps = calls.map((method, i) => [method, calls.slice(0, i + 1).filter((m) => m === method).length] as const);

  it.each(steps.flatMap((step) => (['before', 'after'] as const).map((when) => [...step, when] as const)))(
    'cluster.%s call %i failing %s it acts',
    async (method, nth, when) => {
      const w = world();
      const name = await instanceOwnedBy(w, 'ada@example.com');
      const hashes = [ownerHashOf('ada@example.com'), ownerHashOf('bea@example.com')];
      w.cluster.faults.inject({ method, nth, when, error: () => new UnavailableError(`${method}: connection reset`) });
      await transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' }).catch((error: unknown) => {
        expect(String(error)).toMatch(/connection reset/);
      });
      // Never both and never neither: the labels and the annotation name one of them, the same one.
      const owner = ownerOf(w.cluster.deployments.get(name));
      expect(['ada@example.com', 'bea@example.com']).toContain(owner.email);
      expect(owner.hash).toBe(ownerHashOf(owner.email ?? ''));
      for (const slot of userSlotOwners(w, name)) expect(hashes).toContain(slot);

      // The sweep, once past the grace period, lets go of a slot of the owner the instance does not have.
      w.clock.advance(GRACE_MS + 1);
      const report = await runSweep(w.context, { dryRun: false });
      expect(report.failed).toEqual([]);
      expect(userSlotOwners(w, name)).toEqual([owner.hash]);
      // Where the Deployment passed to bea, the record says so too: the old owner's retry (a lost answer) is answered as done.
      if (owner.email === 'bea@example.com') {
        expect(w.cluster.records.get(name)).toMatchObject({
          spec: { creator: 'ada@example.com' },
          status: { previousOwner: 'ada@example.com' },
        });
        await expect(transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' })).resolves.toMatchObject({ transferred: true });
      }

      // A retry (past any lock left behind) finishes the transfer, and holds the new owner's one slot.
      await transferInstance(accessAs(w, ROOT), { name, to: 'bea@example.com' });
      expect(ownerOf(w.cluster.deployments.get(name)).email).toBe('bea@example.com');
      expect(userSlotOwners(w, name)).toEqual([ownerHashOf('bea@example.com')]);
      expect([...w.cluster.leases.keys()].filter((lease) => lease.startsWith('syncbased-g-'))).toHaveLength(1);
      expect([...w.cluster.leases.keys()].filter((lease) => lease.endsWith('-lock'))).toEqual([]);
    },
  );
});
