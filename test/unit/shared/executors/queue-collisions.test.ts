import { describe, expect, it } from 'vitest';
import { AbortedError } from '../../../../shared/errors.ts';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { makePoolDisk } from '../../../../shared/executors/disk-pool.ts';
import { claimSlotsInTurn, roomOf } from '../../../../shared/executors/queue.ts';
import { transferInstance } from '../../../../shared/executors/transfer.ts';
import { UndoStack } from '../../../../shared/executors/undo.ts';
import { DISK_LABELS, LABELS, QUEUED_LABEL } from '../../../../shared/instances/metadata.ts';
import { ownerHashOf } from '../../../../shared/instances/naming.ts';
import type { CreateRequest } from '../../../../shared/plans/create-plan.ts';
import { isLive, placeOf } from '../../../../shared/plans/queue.ts';
import { accessAs } from '../../fakes/access.ts';
import { caller, planOf, world } from '../../fakes/world.ts';

type World = ReturnType<typeof world>;
const limits = { perUser: 2, global: 2 };

const plan = (w: World, email: string, request: Partial<CreateRequest> = {}, name?: string) =>
  planOf(w, { email, limits, request, ...(name === undefined ? {} : { name }) });

/** A queued plan, as the queue takes it. */
const inLine = (queued: ReturnType<typeof plan>) => ({ ...queued, queue: queued.queue! });

/** The line: the records in phase queued. */
const inLineNow = (w: World) => [...w.cluster.records.values()].filter((record) => record.status.phase === 'queued');
const freePoolDisks = (w: World) =>
  [...w.disks.disks.values()].filter((disk) => disk.labels[DISK_LABELS.poolState] === 'free').map((disk) => disk.name);

describe('the queue, against the collisions of issue 29', () => {
  it("counts each owner's use from the per-user slots, which a transfer moves (collision 1)", async () => {
    const w = world();
    const { name } = await executeCreate(w.context, plan(w, 'ada@example.com'));
    await transferInstance(accessAs(w, caller('ada@example.com'), { limits }), { name, to: 'bea@example.com' });
    const room = roomOf(plan(w, 'ada@example.com').slots, [...w.cluster.leases.values()]);
    // Ada has nothing left; Bea has the one instance. Its global slot still names Ada, who made it.
    expect([room.userFree(ownerHashOf('ada@example.com')), room.userFree(ownerHashOf('bea@example.com')), room.globalFree]).toEqual([
      2, 1, 1,
    ]);
  });

  it('lets a new owner at their limit by transfer claim nothing while they wait: no global slot held for the wait (collision 1)', async () => {
    const w = world();
    await executeCreate(w.context, plan(w, 'bea@example.com'));
    const { name } = await executeCreate(w.context, plan(w, 'ada@example.com'));
    await transferInstance(accessAs(w, caller('ada@example.com'), { limits }), { name, to: 'bea@example.com' });
    // Bea is at her own limit; two of four global slots are free.
    const queued = plan(w, 'bea@example.com', { queue: true, idempotencyKey: 'k' });
    const wider = { ...inLine(queued), slots: { ...queued.slots, global: { ...queued.slots.global, size: 4 } } };
    const globalSlots = () => [...w.cluster.leases.values()].filter((lease) => lease.metadata?.labels?.['allocator.dev/slot'] === 'global');
    const undo = new UndoStack(() => undefined);
    w.clock.advance(1);
    await expect(claimSlotsInTurn(w.context, wider, undo)).rejects.toThrow(/queued for a slot/);
    await expect(claimSlotsInTurn(w.context, wider, undo)).rejects.toThrow(/queued for a slot/);
    // Before the request's own undo runs: it holds no global slot it cannot use.
    expect(globalSlots()).toHaveLength(2);
    await undo.unwind();
  });

  it('lets a re-sent request that hangs up at once leave its place unrenewed, so it dies (collision 2)', async () => {
    const w = world();
    await executeCreate(w.context, plan(w, 'bob@example.com'));
    await executeCreate(w.context, plan(w, 'cy@example.com'));
    const queued = plan(w, 'ada@example.com', { queue: true, idempotencyKey: 'k' });
    await expect(claimSlotsInTurn(w.context, inLine(queued), new UndoStack(() => undefined))).rejects.toThrow(/queued for a slot: 0 ahead/);
    const taken = structuredClone(w.cluster.records.get(queued.name));
    expect(taken?.status.phase).toBe('queued');
    w.clock.advance(10_000);
    const hungUp = AbortSignal.abort();
    await expect(claimSlotsInTurn({ ...w.context, signal: hungUp }, inLine(queued), new UndoStack(() => undefined))).rejects.toThrow(
      /went away/,
    );
    // Handed over to the re-sent request, but not renewed: its deadline is the one it had.
    const after = w.cluster.records.get(queued.name);
    expect(after?.status.operation?.deadline).toEqual(taken?.status.operation?.deadline);
    w.clock.advance(10_001);
    expect(isLive(placeOf(after!), w.clock.now())).toBe(false);
  });

  it("never adopts another caller's queued record of the same name", async () => {
    const w = world();
    await executeCreate(w.context, plan(w, 'bob@example.com'));
    await executeCreate(w.context, plan(w, 'cy@example.com'));
    const adas = plan(w, 'ada@example.com', { queue: true, idempotencyKey: 'k' });
    await expect(claimSlotsInTurn(w.context, inLine(adas), new UndoStack(() => undefined))).rejects.toThrow(/queued/);
    const eves = plan(w, 'eve@example.com', { queue: true, idempotencyKey: 'k' }, adas.name);
    await expect(claimSlotsInTurn(w.context, inLine(eves), new UndoStack(() => undefined))).rejects.toThrow(
      /another caller's queued create/,
    );
    expect(inLineNow(w).map((record) => record.metadata.labels[LABELS.ownerHash])).toEqual([ownerHashOf('ada@example.com')]);
    expect(inLineNow(w).map((record) => record.spec.owner.email)).toEqual(['ada@example.com']);
  });

  it('with the pool on, a queued create claims no pool disk while it waits, and its re-sent request keeps its place (collisions 3 and 10)', async () => {
    const w = world();
    const context = { ...w.context, diskPool: { size: 2 } };
    await executeCreate(context, plan(w, 'bob@example.com'));
    await executeCreate(context, plan(w, 'cy@example.com'));
    await makePoolDisk(context);
    await makePoolDisk(context);
    const pool = freePoolDisks(w);
    const request = { queue: true, idempotencyKey: 'stay-in-line' };
    const planFor = (name?: string) => plan(w, 'ada@example.com', request, name);
    const first = await executeCreate(context, { planFor }).catch((error: unknown) => error);
    expect(first).toBeInstanceOf(AbortedError);
    expect((first as AbortedError).message).toMatch(/0 ahead/);
    expect(freePoolDisks(w)).toEqual(pool);
    const again = await executeCreate(context, { planFor }).catch((error: unknown) => error);
    expect((again as AbortedError).message).toMatch(/0 ahead/);
    // One place, its own disk's name planned (no pool disk's), not pooled.
    const line = inLineNow(w);
    expect(line.map((record) => [record.metadata.labels[QUEUED_LABEL], record.spec.disk.name, record.spec.disk.pooled])).toEqual([
      ['create', line[0]?.metadata.name, false],
    ]);
    expect(pool).not.toContain(line[0]?.metadata.name);
    expect(freePoolDisks(w)).toEqual(pool);
  });
});
