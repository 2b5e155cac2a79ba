import { describe, expect, it } from 'vitest';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { destroyInstance, type DestroyContext } from '../../../../shared/executors/destroy.ts';
import { listDestroyed } from '../../../../shared/executors/list-destroyed.ts';
import { DISK_LABELS } from '../../../../shared/instances/metadata.ts';
import { planCreate } from '../../../../shared/plans/create-plan.ts';
import { caller, config, template, world } from '../../fakes/world.ts';

// Issue 29, collision 4: "Create then destroy, in a loop, with the default one-day window. With a per-user limit of 1,
// 20 cycles left 20 full disks and 20 restore records." An owner keeps at most as many destroyed instances as they may run.
const ADA = 'ada@example.com';
const DAY_MS = 86_400_000;

type World = ReturnType<typeof world>;

const as = (w: World, keptPerUser: number): DestroyContext & World['context'] => ({
  ...w.context,
  caller: caller(ADA),
  restoreWindowMs: DAY_MS,
  keptPerUser,
});

/** `cycles` creates each followed by a destroy, a second apart; the names, oldest first. */
async function cycle(w: World, cycles: number, keptPerUser: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < cycles; i += 1) {
    const plan = planCreate({
      config,
      template,
      caller: caller(ADA),
      request: { wait: true, waitMs: 60_000 },
      nowMs: w.clock.now(),
      random: w.random,
    });
    const { name } = await executeCreate(as(w, keptPerUser), plan);
    await destroyInstance(as(w, keptPerUser), { name });
    names.push(name);
    w.clock.advance(1_000);
  }
  return names;
}

const keptDisks = (w: World) =>
  [...w.disks.disks.values()].filter((disk) => disk.labels[DISK_LABELS.destroyedAt] !== undefined).map((d) => d.name);
const destroyedRecords = (w: World) =>
  [...w.cluster.records.values()].filter((r) => r.status.phase === 'destroyed').map((r) => r.metadata.name);

describe('the kept instances of one owner', () => {
  it('are at most one with a per-user limit of 1: twenty create-and-destroy cycles leave the newest only', async () => {
    const w = world();
    expect(config.limits.perUser).toBe(1);
    const names = await cycle(w, 20, config.limits.perUser);
    expect(new Set(names).size).toBe(20);
    const newest = names[19]!;
    expect(keptDisks(w)).toEqual([newest]);
    expect([...w.disks.disks.keys()]).toEqual([newest]);
    expect(destroyedRecords(w)).toEqual([newest]);
    expect([...w.cluster.records.keys()]).toEqual([newest]);
    expect([...w.cluster.deployments.keys()]).toEqual([]);
    expect([...w.cluster.leases.keys()]).toEqual([]);
    expect(await listDestroyed(as(w, 1), { all: false })).toEqual([
      {
        name: newest,
        owner: ADA,
        mountName: `/ns/allocated/${newest}`,
        destroyedAt: '2026-11-25T12:00:20.000Z',
        restorableUntil: '2026-11-26T12:00:20.000Z',
      },
    ]);
  });

  it('are the newest three with a limit of 3, and the limit leaves other owners alone', async () => {
    const w = world();
    const bobs = await (async () => {
      const plan = planCreate({
        config,
        template,
        caller: caller('bob@example.com'),
        request: { wait: true, waitMs: 60_000 },
        nowMs: w.clock.now(),
        random: w.random,
      });
      const { name } = await executeCreate(as(w, 3), plan);
      await destroyInstance({ ...as(w, 3), caller: caller('bob@example.com') }, { name });
      return name;
    })();
    const names = await cycle(w, 6, 3);
    expect(keptDisks(w).sort()).toEqual([bobs, ...names.slice(3)].sort());
    expect(destroyedRecords(w).sort()).toEqual([bobs, ...names.slice(3)].sort());
    expect((await listDestroyed(as(w, 3), { all: false })).map((d) => d.name)).toEqual(names.slice(3).reverse());
  });
});
