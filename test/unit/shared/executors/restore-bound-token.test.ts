import { describe, expect, it } from 'vitest';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { destroyInstance } from '../../../../shared/executors/destroy.ts';
import { restoreInstance, type RestoreContext } from '../../../../shared/executors/restore.ts';
import { planCreate } from '../../../../shared/plans/create-plan.ts';
import { planRestore } from '../../../../shared/plans/restore.ts';
import { config, template, world } from '../../fakes/world.ts';

// Issue 29, collision 9: restore reads the record itself, so the table's token rule must answer before the stranger's 404:
// an admin acting with a token minted for gcloud gets the 403 naming `allocator login`, as for every other operation.
const ADA = 'ada@example.com';
const ADMIN = 'root@example.com';
type World = ReturnType<typeof world>;

const as = (w: World, email: string, subject: string, sharedAudience = false): RestoreContext & World['context'] => ({
  ...w.context,
  caller: { email, subject, kind: 'user', ...(sharedAudience ? { sharedAudience: true as const } : {}) },
  restoreWindowMs: 86_400_000,
});

async function destroyedOfAda(w: World): Promise<string> {
  const plan = planCreate({
    config,
    template,
    caller: { email: ADA, subject: '1', kind: 'user' },
    request: { wait: true, waitMs: 60_000 },
    nowMs: w.clock.now(),
    random: w.random,
  });
  const { name } = await executeCreate(as(w, ADA, '1'), plan);
  await destroyInstance(as(w, ADA, '1'), { name });
  return name;
}

const restore = (w: World, context: RestoreContext, name: string) =>
  restoreInstance(context, {
    name,
    plan: (record) =>
      planRestore({
        config,
        template,
        record,
        caller: context.caller,
        request: { name, wait: true, waitMs: 60_000 },
        nowMs: w.clock.now(),
        random: w.random,
      }),
  });

/** What a refused restore must leave: the record destroyed, the kept disk, nothing made. */
const untouched = (w: World, name: string) => ({
  record: w.cluster.records.get(name),
  deployments: [...w.cluster.deployments.keys()],
  leases: [...w.cluster.leases.keys()],
  disks: [...w.disks.disks.keys()],
});

describe("an admin's gcloud token, restoring another's instance", () => {
  it('is the 403 naming allocator login that every other operation answers, not a 404, and touches nothing', async () => {
    const w = world();
    const name = await destroyedOfAda(w);
    const before = untouched(w, name);
    await expect(restore(w, as(w, ADMIN, '9', true), name)).rejects.toMatchObject({
      status: 403,
      statusName: 'PERMISSION_DENIED',
      message: expect.stringMatching(/minted for gcloud .*to act on other people's instances, sign in with `allocator login`/) as string,
    });
    expect(untouched(w, name)).toEqual(before);
    expect(before.record?.status.phase).toBe('destroyed');
  });

  it("keeps a stranger's 404, and restores for the admin with a bound token", async () => {
    const w = world();
    const name = await destroyedOfAda(w);
    await expect(restore(w, as(w, 'bob@example.com', '2', true), name)).rejects.toMatchObject({
      status: 404,
      message: `no destroyed instance ${name} can be restored`,
    });
    await expect(restore(w, as(w, ADMIN, '9'), name)).resolves.toMatchObject({ name, owner: ADA, state: 'ready' });
    expect(w.cluster.records.get(name)?.status).toEqual({ phase: 'running' });
  });
});
