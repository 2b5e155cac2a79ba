import { describe, expect, it } from 'vitest';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { destroyInstance } from '../../../../shared/executors/destroy.ts';
import { findRestoreRecord, type RestoreContext } from '../../../../shared/executors/restore.ts';
import { planCreate } from '../../../../shared/plans/create-plan.ts';
import { config, template, world } from '../../fakes/world.ts';

// Issue 29, collision 9: restore finds its record itself (not through findInstance), so it must ask the policy too:
// the first test passes once findRestoreRecord (restore.ts) calls checkBoundTokenFor before its 404.
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

describe("an admin's gcloud token, restoring another's instance", () => {
  it('is the 403 naming allocator login that every other operation answers, not a 404', async () => {
    const w = world();
    const name = await destroyedOfAda(w);
    await expect(findRestoreRecord(as(w, ADMIN, '9', true), name)).rejects.toMatchObject({
      status: 403,
      message: expect.stringMatching(/minted for gcloud .*`allocator login`/),
    });
  });

  it("keeps a stranger's 404, and finds the record for the admin with a bound token", async () => {
    const w = world();
    const name = await destroyedOfAda(w);
    await expect(findRestoreRecord(as(w, 'bob@example.com', '2', true), name)).rejects.toMatchObject({ status: 404 });
    expect((await findRestoreRecord(as(w, ADMIN, '9'), name)).metadata?.name).toBe(`${name}-restore`);
  });
});
