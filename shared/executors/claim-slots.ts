import { AllocatorError, AlreadyExistsError, QuotaExceededError } from '../errors.ts';
import { allItems, type ClusterClient } from '../kube/cluster.ts';
import { slotLease, slotName, type SlotPool } from '../plans/slots.ts';
import { deleteLease } from './teardown.ts';
import type { UndoStack } from './undo.ts';

/** A step failed with an answer that says it did not happen (any 4xx); timeouts and 5xx may hide a success. */
export function didNotHappen(error: unknown): boolean {
  return error instanceof AllocatorError && error.status < 500;
}

/** Deletes `name` if this try holds it: after a create whose answer was lost, it may or may not. */
async function releaseIfHeld(cluster: ClusterClient, pool: SlotPool, name: string): Promise<void> {
  const lease = await cluster.readLease(name);
  if (lease?.spec?.holderIdentity === pool.holder) await deleteLease({ cluster }, lease);
}

async function takenNames(cluster: ClusterClient, selector: string): Promise<Set<string>> {
  const leases = await allItems((continueToken) =>
    cluster.listLeases({ labelSelector: selector, limit: 500, ...(continueToken ? { continueToken } : {}) }),
  );
  return new Set(leases.flatMap((lease) => (lease.metadata?.name ? [lease.metadata.name] : [])));
}

/** How many names are tried blind, spread around the pool from its start, before listing the taken ones. */
const BLIND_TRIES = 3;

/**
 * The blind tries: spread evenly around the pool rather than side by side,
 * so that a run of taken names (slots claimed in order, or by an earlier
 * version) costs no more than scattered ones: at half full, side by side
 * from a random start meant a list for about half the creates.
 */
export function blindNames(pool: Pick<SlotPool, 'prefix' | 'size' | 'start'>): string[] {
  const count = Math.min(BLIND_TRIES, pool.size);
  const stride = Math.max(1, Math.floor(pool.size / count));
  return Array.from({ length: count }, (_, i) => slotName(pool, (pool.start + i * stride) % pool.size));
}

/** Creates slot `name`; false when it is taken (the API server let another create of that name win). */
async function tryTake(cluster: ClusterClient, pool: SlotPool, undo: UndoStack, name: string): Promise<boolean> {
  try {
    await undo.step(
      `the ${pool.kind} slot ${name}`,
      () => releaseIfHeld(cluster, pool, name),
      () => cluster.createLease(slotLease(pool, name)),
      didNotHappen,
    );
    return true;
  } catch (error) {
    if (error instanceof AlreadyExistsError) return false;
    throw error;
  }
}

/** How many times the taken slots are listed before a 429, when other creates keep taking the free ones first. */
const LISTS = 3;

/**
 * Takes one free slot of `pool`, or throws the pool's 429. It first tries a
 * few names around the pool without looking, which costs one call
 * whatever the number of instances while there is room; only when those are
 * taken does it list the taken slots and walk the free ones. If others take
 * every free one first, slots freed since the list may be free now, so it
 * lists again; a list with nothing free is the 429. The limit stays exact
 * either way: a slot is held only if its create succeeded.
 */
export async function claimOne(cluster: ClusterClient, pool: SlotPool, undo: UndoStack): Promise<string> {
  for (const name of blindNames(pool)) if (await tryTake(cluster, pool, undo, name)) return name;
  for (let list = 0; list < LISTS; list += 1) {
    const taken = await takenNames(cluster, pool.selector);
    let anyFree = false;
    for (let index = 0; index < pool.size; index += 1) {
      const name = slotName(pool, index);
      if (taken.has(name)) continue;
      anyFree = true;
      if (await tryTake(cluster, pool, undo, name)) return name;
    }
    if (!anyFree) break;
  }
  throw new QuotaExceededError(pool.exhausted);
}

/**
 * Claims a per-user and a global slot at once: one round trip instead of two.
 * Each is on `undo` from the moment its create is sent, so a failed claim of
 * either gives the other back when the caller unwinds. A caller over their
 * own limit may hold a global slot for that one round trip, the same window a
 * create failing at its disk opens; the per-user refusal is the one answered.
 */
export async function claimSlots(cluster: ClusterClient, pools: { user: SlotPool; global: SlotPool }, undo: UndoStack): Promise<string[]> {
  const [user, global] = await Promise.allSettled([claimOne(cluster, pools.user, undo), claimOne(cluster, pools.global, undo)]);
  if (user.status === 'rejected') throw user.reason;
  if (global.status === 'rejected') throw global.reason;
  return [user.value, global.value];
}
