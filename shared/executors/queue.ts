import type { V1Lease } from '@kubernetes/client-node';
import { queuedInfo } from '../api/queue-position.ts';
import { AbortedError, AlreadyExistsError, ConflictError, DeadlineExceededError, NotFoundError, QuotaExceededError } from '../errors.ts';
import { LABELS, QUEUED_LABEL } from '../instances/metadata.ts';
import { allItems, type ClusterClient } from '../kube/cluster.ts';
import type { InstanceRecord } from '../model/record.ts';
import { recordOfPlan, type CreatePlan } from '../plans/create-plan.ts';
import {
  handedOverStatus,
  isLive,
  legacyPlaceOf,
  legacyTicketName,
  lineOf,
  placeOf,
  queuedRecord,
  queuedSelector,
  queuedStatus,
  renewedStatus,
  turnOf,
  type Place,
  type QueuePlan,
  type Room,
  type Turn,
} from '../plans/queue.ts';
import { SLOT_LABEL } from '../plans/slots.ts';
import { claimSlots } from './claim-slots.ts';
import type { ExecutionContext } from './context.ts';
import { clearInterrupted, deleteOwnRecord, type RecordContext } from './create-record.ts';
import { deleteLease } from './teardown.ts';
import { UndoStack } from './undo.ts';

/** A queued create's context: besides the cluster, whether its caller is still there. */
export type QueueContext = ExecutionContext & {
  /** Aborted when the caller closes the connection: its waiter stops renewing, so its place dies. */
  readonly signal?: AbortSignal;
};

/** What the queue needs: a create plan that waits in line. */
export type QueuedClaim = CreatePlan & { readonly queue: QueuePlan };

/** What a wait in line ends with: the slots claimed, and the record, moved on to provisioning. */
export interface Claimed {
  readonly slots: string[];
  readonly record: InstanceRecord;
}

/** Seconds a caller waits before sending its request again: short, as the server does the waiting, not the caller. */
const RESEND_AFTER_SECONDS = 1;

/**
 * Waits in line for the slots: makes (or finds again) the create's record in
 * phase queued, then, looking again every `pollMs` with jitter, claims once
 * `turnOf` says this place may, and moves the record on to provisioning by a
 * conditional write. Polling rather than a watch on records: each look must
 * list both the line and the slots anyway (a watch event would only say
 * "look again"), a waiter's request ends within the bound so a watch would
 * be set up again for each, and jittered polls from many waiters spread out
 * rather than all firing on one event.
 *
 * A request that made a fresh record and cannot claim at once answers its
 * place at once, so the caller sees it; one that found its record waits up
 * to the bound, renewing it, and then answers its place (409 ABORTED). A
 * claim that loses to a create that did not queue (the limits stay exact:
 * the slots decide) keeps waiting. Past the caller's queue timeout the
 * record goes and the answer is 504. The record in line is on no undo stack:
 * the request ends, its place stays (until it dies unrenewed).
 */
export async function claimSlotsInTurn(context: QueueContext & RecordContext, plan: QueuedClaim, undo: UndoStack): Promise<Claimed> {
  const { clock } = context;
  const startedMs = clock.now();
  const holder = plan.slots.global.holder;
  let fresh = await takePlace(context, plan, holder);
  // A place found again was handed over unrenewed: its first renewal waits for the first look, which checks the
  // signal first, so a caller that hung up never renews it.
  let renewedMs = fresh ? startedMs : Number.NEGATIVE_INFINITY;
  let toldAhead: number | undefined;
  for (;;) {
    if (context.signal?.aborted) throw new AbortedError('the caller went away while it waited in the queue', { retryAfterSeconds: 0 });
    const [records, slots] = await Promise.all([listQueued(context), listLeases(context.cluster, slotSelector(context.serverName))]);
    const line = lineOf(records);
    const mine = records.find((record) => record.metadata.name === plan.name && record.status.phase === 'queued');
    if (mine === undefined) {
      // Removed (past its deadline after a stall, by the sweep or another waiter), or claimed by a re-sent request.
      fresh = await takePlace(context, plan, holder);
      continue;
    }
    const place = placeOf(mine);
    if (place.holder !== holder) throw replaced();
    await removeDead(context, records, line, place.name);
    const turn = turnOf(line, place.name, roomOf(plan.slots, slots), clock.now());
    if (!turn.mayClaim && turn.ahead !== toldAhead) context.progress?.('queued', { ahead: (toldAhead = turn.ahead) });
    if (turn.mayClaim) {
      const claimed = await claimInTurn(context, plan, mine, undo);
      if (claimed === 'gone') continue;
      if (claimed !== 'taken') return claimed;
    }
    const nowMs = clock.now();
    if (plan.queue.timeoutMs !== undefined && nowMs >= place.sinceMs + plan.queue.timeoutMs) {
      await leaveLine(context, mine);
      throw new DeadlineExceededError(
        `no slot came free within ${Math.round(plan.queue.timeoutMs / 1000)} s in the queue (${turn.ahead} still ahead); its place in line was given up`,
      );
    }
    if (fresh || nowMs + plan.queue.pollMs >= startedMs + plan.queue.requestBoundMs) throw toldToWait(turn);
    if (nowMs - renewedMs >= plan.queue.leaseMs / 3) {
      // A lost race is a hand-over to a re-sent request, or a removal: the next look tells which.
      const renewed = await context.cluster
        .replaceRecord({ ...mine, status: renewedStatus(place, { nowMs, leaseMs: plan.queue.leaseMs }) }, 'status')
        .catch((error: unknown) => {
          if (error instanceof ConflictError || error instanceof NotFoundError) return undefined;
          throw error;
        });
      if (renewed) renewedMs = nowMs;
    }
    await clock.sleep(plan.queue.pollMs / 2 + (context.random(1).readUInt8(0) / 255) * plan.queue.pollMs);
  }
}

/**
 * Claims the slots for the record in line, then moves it on: its spec
 * becomes this request's plan (a re-sent request's Deployment carries its own
 * creation time), without the queue and its label, then its phase
 * provisioning, each write conditional on what was read. A claim refused at
 * either limit (a create that did not queue took the slot first), or a place
 * taken over meanwhile, gives back what it took at once: `taken`, wait on;
 * `gone`, the record was removed as dead, look again.
 */
async function claimInTurn(
  context: QueueContext & RecordContext,
  plan: QueuedClaim,
  mine: InstanceRecord,
  undo: UndoStack,
): Promise<Claimed | 'taken' | 'gone'> {
  const attempt = new UndoStack(context.report);
  const slots = await claimSlots(context.cluster, plan.slots, attempt).catch(async (error: unknown) => {
    await attempt.unwind();
    if (error instanceof QuotaExceededError) return undefined;
    throw error;
  });
  if (slots === undefined) return 'taken';
  try {
    const planned = recordOfPlan(plan, { serverName: context.serverName, pooled: false });
    const { [QUEUED_LABEL]: _queued, ...labels } = mine.metadata.labels;
    attempt.push(`the record of ${plan.name}`, () => deleteOwnRecord(context, plan));
    const specced = await context.cluster.replaceRecord({ ...mine, metadata: { ...mine.metadata, labels }, spec: planned.spec }, 'spec');
    const record = await context.cluster.replaceRecord({ ...specced, status: { phase: 'provisioning' } }, 'status');
    attempt.moveTo(undo);
    return { slots, record };
  } catch (error) {
    await attempt.unwind();
    if (error instanceof ConflictError) throw replaced(); // handed over to a re-sent request since this look
    if (error instanceof NotFoundError) return 'gone'; // removed as dead: the next look takes a new place
    throw error;
  }
}

function replaced(): AbortedError {
  return new AbortedError('another request with this Idempotency-Key now waits in its place', { retryAfterSeconds: RESEND_AFTER_SECONDS });
}

function toldToWait(turn: Turn): AbortedError {
  return new AbortedError(`queued for a slot: ${turn.ahead} ahead; send the same request again (same Idempotency-Key) to keep the place`, {
    retryAfterSeconds: RESEND_AFTER_SECONDS,
    details: [queuedInfo(turn.ahead)],
  });
}

/** Every slot of this allocator, of both limits: one list for the queue's look. */
function slotSelector(serverName: string): string {
  return `${LABELS.allocator}=${serverName},${SLOT_LABEL}`;
}

/** The free slots: global ones counted as such, per-user ones by their owner (what a transfer moves, where the global slot keeps its first owner). */
export function roomOf(pools: QueuedClaim['slots'], slots: readonly V1Lease[]): Room {
  const perOwner = new Map<string, number>();
  let global = 0;
  for (const slot of slots) {
    const labels = slot.metadata?.labels ?? {};
    if (labels[SLOT_LABEL] === 'global') global += 1;
    if (labels[SLOT_LABEL] !== 'user') continue;
    const owner = labels[LABELS.ownerHash] ?? '';
    perOwner.set(owner, (perOwner.get(owner) ?? 0) + 1);
  }
  return {
    globalFree: pools.global.size - global,
    userFree: (ownerHash) => pools.user.size - (perOwner.get(ownerHash) ?? 0),
  };
}

/** Only the record read, unchanged since: a waiter's renewal or a hand-over since then keeps it. */
function asRead(record: InstanceRecord): { uid: string; resourceVersion?: string } | undefined {
  const { uid, resourceVersion } = record.metadata;
  return uid ? { uid, ...(resourceVersion ? { resourceVersion } : {}) } : undefined;
}

/**
 * The create's place in line: a record made now (true: fresh), or found again
 * by a re-sent request and handed over to it unrenewed, keeping its place. One
 * found dead is replaced, at the back: its waiter had gone for longer than
 * its lease time. A record of the name that is not in line is an earlier
 * try's: cleared if that try was interrupted, else its 409.
 */
async function takePlace(context: QueueContext & RecordContext, plan: QueuedClaim, holder: string): Promise<boolean> {
  const { cluster, clock } = context;
  const ownerHash = plan.slots.user.labels[LABELS.ownerHash] ?? '';
  const leaseMs = plan.queue.leaseMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const legacy = attempt === 1 ? await legacyPlace(context, plan, ownerHash) : undefined;
      const nowMs = clock.now();
      const record = queuedRecord({
        record: recordOfPlan(plan, { serverName: context.serverName, pooled: false }),
        nowMs,
        ...(legacy ? { sinceMs: legacy.sinceMs } : {}),
        leaseMs,
        ...(plan.queue.timeoutMs === undefined ? {} : { timeoutMs: plan.queue.timeoutMs }),
      });
      const created = await cluster.createRecord(record);
      await cluster.replaceRecord({ ...created, status: queuedStatus({ holder, nowMs, leaseMs }) }, 'status').catch((error: unknown) => {
        // Before its first status write, a re-sent request took the place over (or the line's look removed it).
        throw error instanceof ConflictError || error instanceof NotFoundError ? replaced() : error;
      });
      if (legacy) {
        context.report(`carried the place of the queue ticket ${legacy.name} over to the record of ${plan.name}`);
        await deleteLease(context, legacy.lease).catch((error: unknown) =>
          context.report(`could not remove the queue ticket ${legacy.name}: ${(error as Error).message}; the sweep removes it once dead`),
        );
      }
      return true;
    } catch (error) {
      if (!(error instanceof AlreadyExistsError) || attempt >= 3) throw error;
    }
    const existing = await cluster.readRecord(plan.name);
    if (existing === undefined) continue;
    const place = placeOf(existing);
    if (existing.status.phase === 'queued' && !isLive(place, clock.now())) {
      context.report(`replacing the dead queued create ${plan.name}`);
      await removeQueued(context, existing);
      continue;
    }
    // Not in line (an earlier try's record, or one whose claim is under way: unlabelled, still queued): not a place to take.
    if (existing.status.phase !== 'queued' || existing.metadata.labels[QUEUED_LABEL] === undefined) {
      await clearInterrupted(context, plan, existing);
      continue;
    }
    if (place.ownerHash !== ownerHash || existing.spec.keyHash !== plan.idempotencyKeyHash)
      throw new AlreadyExistsError(`${plan.name} is another caller's queued create`);
    try {
      await cluster.replaceRecord({ ...existing, status: handedOverStatus(place, holder) }, 'status');
      return false;
    } catch (error) {
      if (!(error instanceof ConflictError || error instanceof NotFoundError)) throw error; // renewed, replaced or gone meanwhile
    }
  }
}

/** The place of a live ticket that a release before queued records took for this create, which its re-send keeps. */
async function legacyPlace(
  context: QueueContext,
  plan: QueuedClaim,
  ownerHash: string,
): Promise<{ name: string; lease: V1Lease; sinceMs: number } | undefined> {
  const name = legacyTicketName(plan.name);
  const lease = await context.cluster.readLease(name);
  const sinceMs = legacyPlaceOf(lease, { ownerHash, nowMs: context.clock.now() });
  return lease && sinceMs !== undefined ? { name, lease, sinceMs } : undefined;
}

/** Deletes a queued record as read: one renewed or handed over since stays (false). */
export async function removeQueued(context: ExecutionContext, record: InstanceRecord): Promise<boolean> {
  return await context.cluster.deleteRecord(record.metadata.name, asRead(record)).catch((error: unknown) => {
    if (error instanceof ConflictError) return false;
    throw error;
  });
}

/** Gives up the place: the record goes, unless a re-sent request took it over meanwhile (it then dies unrenewed if that one went too). */
async function leaveLine(context: QueueContext, record: InstanceRecord): Promise<void> {
  await removeQueued(context, record).catch((error: unknown) =>
    context.report(`could not remove the queued record ${record.metadata.name}: ${(error as Error).message}; it dies unrenewed`),
  );
}

/** Removes the dead places a look saw (not its own): they hold up nobody, but the line is shorter for every later look. */
async function removeDead(context: QueueContext, queued: readonly InstanceRecord[], line: readonly Place[], mine: string): Promise<void> {
  const nowMs = context.clock.now();
  const dead = new Set(line.filter((place) => place.name !== mine && !isLive(place, nowMs)).map((place) => place.name));
  if (dead.size === 0) return;
  await Promise.all(
    queued
      .filter((record) => dead.has(record.metadata.name))
      .map(async (record) => {
        if (await removeQueued(context, record).catch(() => false))
          context.report(`removed the dead queued create ${record.metadata.name}`);
      }),
  );
}

async function listQueued(context: QueueContext): Promise<InstanceRecord[]> {
  return await allItems((continueToken) =>
    context.cluster.listRecords({
      labelSelector: queuedSelector(context.serverName),
      limit: 500,
      ...(continueToken ? { continueToken } : {}),
    }),
  );
}

async function listLeases(cluster: ClusterClient, selector: string): Promise<V1Lease[]> {
  return await allItems((continueToken) =>
    cluster.listLeases({ labelSelector: selector, limit: 500, ...(continueToken ? { continueToken } : {}) }),
  );
}
