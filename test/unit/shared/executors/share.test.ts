import { describe, expect, it } from 'vitest';
import type { CallerIdentity } from '../../../../shared/auth/identity.ts';
import { BadRequestError, NotFoundError, PermissionDeniedError } from '../../../../shared/errors.ts';
import { destroyInstance } from '../../../../shared/executors/destroy.ts';
import { extendInstance } from '../../../../shared/executors/extend.ts';
import { resumeInstance, suspendInstance } from '../../../../shared/executors/lifecycle.ts';
import { listInstances } from '../../../../shared/executors/list.ts';
import { shareInstance, unshareInstance } from '../../../../shared/executors/share.ts';
import { ANNOTATIONS } from '../../../../shared/instances/metadata.ts';
import { sharedLabelKey } from '../../../../shared/instances/sharing.ts';
import { accessAs, instanceOwnedBy } from '../../fakes/access.ts';
import { caller, config, world } from '../../fakes/world.ts';

type World = ReturnType<typeof world>;

const ADA = caller('ada@example.com');
const BEA = caller('bea@example.com');

const podArgs = (w: World, name: string): string[] => w.cluster.deployments.get(name)?.spec?.template?.spec?.containers[0]?.command ?? [];

describe('shareInstance and unshareInstance', () => {
  it('puts collaborators on the access list after the owner, renders the template again, and labels the instance for their lists', async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    const instance = await shareInstance(accessAs(w, ADA), { name, emails: ['Bea@example.com', 'cy@example.com', 'bea@example.com'] });
    expect(instance.collaborators).toEqual(['bea@example.com', 'cy@example.com']);
    expect(instance.accessList.In).toEqual(['ada@example.com', 'bea@example.com', 'cy@example.com', 'root@example.com']);
    expect(podArgs(w, name).join(' ')).toContain('"In":["ada@example.com","bea@example.com","cy@example.com","root@example.com"]');
    const labels = w.cluster.deployments.get(name)?.metadata?.labels ?? {};
    expect(labels[sharedLabelKey('bea@example.com')]).toBe('true');
    expect(labels[sharedLabelKey('cy@example.com')]).toBe('true');

    const after = await unshareInstance(accessAs(w, ADA), { name, emails: ['cy@example.com', 'nobody@example.com'] });
    expect(after.collaborators).toEqual(['bea@example.com']);
    expect(after.accessList.In).toEqual(['ada@example.com', 'bea@example.com', 'root@example.com']);
    expect(w.cluster.deployments.get(name)?.metadata?.labels?.[sharedLabelKey('cy@example.com')]).toBeUndefined();
    await unshareInstance(accessAs(w, ADA), { name, emails: ['bea@example.com'] });
    expect(w.cluster.deployments.get(name)?.metadata?.annotations?.[ANNOTATIONS.collaborators]).toBeUndefined();
  });

  it('changes nothing, and restarts nothing, for a share that is already so or an unshare of someone not shared with', async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    await shareInstance(accessAs(w, ADA), { name, emails: ['bea@example.com'] });
    const generation = w.cluster.deployments.get(name)?.metadata?.generation;
    w.cluster.faults.calls.length = 0;
    await shareInstance(accessAs(w, ADA), { name, emails: ['bea@example.com'] });
    await unshareInstance(accessAs(w, ADA), { name, emails: ['cy@example.com'] });
    expect(w.cluster.faults.calls).not.toContain('patchDeployment');
    expect(w.cluster.deployments.get(name)?.metadata?.generation).toBe(generation);
  });

  it.each([
    ['with its owner', ['ada@example.com'], /ada@example.com owns/],
    [
      'with an email outside the allowed callers, naming it',
      ['bea@example.com', 'eve@elsewhere.test'],
      /eve@elsewhere.test may not use this allocator/,
    ],
    ['with something not an email', ['*@example.com'], /"\*@example.com" is not an email/],
    ['with more than ALLOCATOR_MAX_COLLABORATORS', ['a@example.com', 'b@example.com', 'c@example.com'], /at most 2 people/],
  ])('refuses to share %s with a 400, and changes nothing', async (_case, emails, message) => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    const share = shareInstance(accessAs(w, ADA, { allowedCallers: ['*@example.com'], maxCollaborators: 2 }), { name, emails });
    await expect(share).rejects.toThrow(BadRequestError);
    await expect(share).rejects.toThrow(message);
    expect(w.cluster.deployments.get(name)?.metadata?.annotations?.[ANNOTATIONS.collaborators]).toBeUndefined();
  });

  it('lets a collaborator see, extend, suspend and resume it, but not destroy, share or unshare it; a stranger gets the 404', async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    await shareInstance(accessAs(w, ADA), { name, emails: ['bea@example.com'] });
    const bea = accessAs(w, BEA);
    expect(await listInstances(bea, { all: false })).toEqual([
      expect.objectContaining({ name, sharedWithMe: true, owner: 'ada@example.com' }),
    ]);
    expect(await listInstances(accessAs(w, ADA), { all: false })).toEqual([expect.objectContaining({ name, sharedWithMe: false })]);
    await extendInstance({ ...bea, lifetime: config.lifetime }, { name, lifetimeSeconds: 60 });
    await expect(suspendInstance(bea, { name })).resolves.toMatchObject({ state: 'suspended' });
    await expect(resumeInstance(bea, { name, wait: false, waitMs: 1_000 })).resolves.toMatchObject({ replicas: 1 });
    await expect(destroyInstance({ ...bea, restoreWindowMs: 0, keptPerUser: 2 }, { name })).rejects.toThrow(PermissionDeniedError);
    await expect(shareInstance(bea, { name, emails: ['cy@example.com'] })).rejects.toThrow(PermissionDeniedError);
    await expect(unshareInstance(bea, { name, emails: ['bea@example.com'] })).rejects.toThrow(PermissionDeniedError);
    const eve = accessAs(w, caller('eve@example.com'));
    await expect(extendInstance({ ...eve, lifetime: config.lifetime }, { name })).rejects.toThrow(NotFoundError);
    await expect(shareInstance(eve, { name, emails: ['eve@example.com'] })).rejects.toThrow(NotFoundError);
    expect(await listInstances(eve, { all: false })).toEqual([]);
    // Taken off, they no longer see it.
    await unshareInstance(accessAs(w, ADA), { name, emails: ['bea@example.com'] });
    expect(await listInstances(bea, { all: false })).toEqual([]);
  });

  it("lets an admin share anyone's instance", async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    const root: CallerIdentity = { email: 'root@example.com', subject: '99', kind: 'user' };
    await expect(shareInstance(accessAs(w, root), { name, emails: ['bea@example.com'] })).resolves.toMatchObject({
      collaborators: ['bea@example.com'],
    });
  });
});
