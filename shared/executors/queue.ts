import type { V1Lease } from '@kubernetes/client-node';
import { queuedInfo } from '../api/queue-position.ts';
import { AbortedError, AlreadyExistsError, ConflictError, DeadlineExceededError, NotFoundError, QuotaExceededError } from '../errors.ts';
import { LABELS } from '../instances/metadata.ts';
import { allItems, type ClusterClient } from '../kube/cluster.ts';
import {
  isLive,
  ticketFromLease,
  ticketLease,
  ticketName,
  ticketHandover,
  ticketRenewal,
  ticketSelector,
  turnOf,
  type QueuePlan,
  type Room,
  type Ticket,
  type Turn,
} from '../plans/queue.ts';
import { SLOT_LABEL, type SlotPool } from '../plans/slots.ts';
import { claimSlots } from './claim-slots.ts';
import type { ExecutionContext } from './context.ts';
import { deleteLease } from './teardown.ts';
import { UndoStack } from './undo.ts';

/** A queued create's context: besides the cluster, whether its caller is still there. */
export type QueueContext = ExecutionContext & {
  /** Aborted when the caller closes the connection: its waiter stops renewing, so the ticket dies. */
  readonly signal?: AbortSignal;
};

/** What the queue needs of a create plan. */
export interface QueuedClaim {
  /** The instance: its ticket is named after it. */
  readonly name: string;
  readonly slots: { readonly user: SlotPool; readonly global: SlotPool };
  readonly queue: QueuePlan;
}

/** Seconds a caller waits before sending its request again: short, as the server does the waiting, not the caller. */
const RESEND_AFTER_SECONDS = 1;

/**
 * Claims the slots in turn: takes (or finds again) the create's ticket,
 * then, looking again every `pollMs` with jitter, claims once `turnOf` says
 * this ticket may, and lets the ticket go. Polling rather than a watch on
 * Leases: each look must list both the tickets and the slots anyway (a
 * watch event would only say "look again"), a waiter's request ends within
 * the bound so a watch would be set up again for each, and jittered polls
 * from many waiters spread out rather than all firing on one event.
 *
 * A request that took a fresh ticket and cannot claim at once answers its
 * place at once, so the caller sees it; one that found its ticket waits up
 * to the bound, renewing it, and then answers its place (409 ABORTED). A
 * claim that loses to a create that did not queue (the limits stay exact:
 * the slots decide) keeps waiting. Past the caller's queue timeout the
 * ticket goes and the answer is 504.
 */
export async function claimSlotsInTurn(context: QueueContext, plan: QueuedClaim, undo: UndoStack): Promise<string[]> {
  const { clock } = context;
  const startedMs = clock.now();
  const holder = plan.slots.global.holder;
  let { lease, fresh } = await takeTicket(context, plan, holder);
  // A ticket found again was handed over unrenewed: its first renewal waits for the first look, which checks the
  // signal first, so a caller that hung up never renews it.
  let renewedMs = fresh ? startedMs : Number.NEGATIVE_INFINITY;
  let toldAhead: number | undefined;
  for (;;) {
    if (context.signal?.aborted) throw new AbortedError('the caller went away while it waited in the queue', { retryAfterSeconds: 0 });
    const [tickets, slots] = await Promise.all([listTickets(context), listLeases(context.cluster, slotSelector(context.serverName))]);
    const mine = tickets.find((ticket) => ticket.name === lease.metadata?.name);
    if (mine === undefined) {
      // Removed (by the sweep, after a stall longer than its lease time): a new ticket, at the back.
      ({ lease, fresh } = await takeTicket(context, plan, holder));
      continue;
    }
    if (mine.holder !== holder) throw replaced();
    const turn = turnOf(tickets, mine.name, roomOf(plan.slots, slots), clock.now());
    if (!turn.mayClaim && turn.ahead !== toldAhead) context.progress?.('queued', { ahead: (toldAhead = turn.ahead) });
    if (turn.mayClaim) {
      // A try of its own: a claim refused at either limit gives back what it took at once, not at the end of the request.
      const attempt = new UndoStack(context.report);
      const claimed = await claimSlots(context.cluster, plan.slots, attempt).catch(async (error: unknown) => {
        await attempt.unwind();
        if (error instanceof QuotaExceededError) return undefined; // a create that did not queue took it first
        throw error;
      });
      if (claimed) {
        attempt.moveTo(undo);
        await releaseTicket(context, lease);
        return claimed;
      }
    }
    const nowMs = clock.now();
    if (plan.queue.timeoutMs !== undefined && nowMs >= mine.takenAtMs + plan.queue.timeoutMs) {
      await releaseTicket(context, lease);
      throw new DeadlineExceededError(
        `no slot came free within ${Math.round(plan.queue.timeoutMs / 1000)} s in the queue (${turn.ahead} still ahead); its ticket was removed`,
      );
    }
    if (fresh || nowMs + plan.queue.pollMs >= startedMs + plan.queue.requestBoundMs) throw queued(turn);
    if (nowMs - renewedMs >= plan.queue.ticketMs / 3) {
      lease = await context.cluster.patchLease(mine.name, ticketRenewal(nowMs), uidOf(lease)).catch((error: unknown) => {
        if (error instanceof ConflictError) throw replaced(); // a re-sent request found it dead and took a new one
        throw error;
      });
      renewedMs = nowMs;
    }
    await clock.sleep(plan.queue.pollMs / 2 + (context.random(1).readUInt8(0) / 255) * plan.queue.pollMs);
  }
}

function replaced(): AbortedError {
  return new AbortedError('another request with this Idempotency-Key now waits in its place', { retryAfterSeconds: RESEND_AFTER_SECONDS });
}

function queued(turn: Turn): AbortedError {
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

function uidOf(lease: V1Lease): { uid: string } | undefined {
  return lease.metadata?.uid ? { uid: lease.metadata.uid } : undefined;
}

/**
 * The create's ticket: made now, or found again by a re-sent request and
 * renewed for it (keeping its place). One found dead is replaced, at the
 * back: its waiter had gone for longer than its lease time.
 */
async function takeTicket(context: QueueContext, plan: QueuedClaim, holder: string): Promise<{ lease: V1Lease; fresh: boolean }> {
  const { cluster, clock } = context;
  const name = ticketName(plan.name);
  const ownerHash = plan.slots.user.labels[LABELS.ownerHash] ?? '';
  const make = (): V1Lease =>
    ticketLease({
      serverName: context.serverName,
      instance: plan.name,
      ownerHash,
      holder,
      nowMs: clock.now(),
      ticketMs: plan.queue.ticketMs,
    });
  for (let attempt = 1; ; attempt += 1) {
    try {
      return { lease: await cluster.createLease(make()), fresh: true };
    } catch (error) {
      if (!(error instanceof AlreadyExistsError) || attempt >= 3) throw error;
    }
    const existing = await cluster.readLease(name);
    if (existing === undefined) continue;
    if (!isLive(ticketFromLease(existing), clock.now())) {
      context.report(`replacing the dead ticket ${name}`);
      await deleteLease(context, existing);
      continue;
    }
    try {
      if (existing.metadata?.labels?.[LABELS.ownerHash] !== ownerHash) throw new AlreadyExistsError(`${name} is another caller's ticket`);
      return { lease: await cluster.patchLease(name, ticketHandover(holder), uidOf(existing)), fresh: false };
    } catch (error) {
      if (!(error instanceof ConflictError || error instanceof NotFoundError)) throw error; // replaced or gone meanwhile
    }
  }
}

async function releaseTicket(context: QueueContext, lease: V1Lease): Promise<void> {
  await deleteLease(context, lease).catch((error: unknown) =>
    context.report(`could not remove the ticket ${lease.metadata?.name}: ${(error as Error).message}; it dies unrenewed`),
  );
}

async function listTickets(context: QueueContext): Promise<Ticket[]> {
  const leases = await listLeases(context.cluster, ticketSelector(context.serverName));
  return leases.map(ticketFromLease);
}

async function listLeases(cluster: ClusterClient, selector: string): Promise<V1Lease[]> {
  return await allItems((continueToken) =>
    cluster.listLeases({ labelSelector: selector, limit: 500, ...(continueToken ? { continueToken } : {}) }),
  );
}

/** Removes every ticket whose waiter stopped renewing it (the sweep's part); answers their names. */
export async function removeDeadTickets(context: ExecutionContext, options: { dryRun: boolean }): Promise<string[]> {
  const leases = await listLeases(context.cluster, ticketSelector(context.serverName));
  const dead = leases.filter((lease) => !isLive(ticketFromLease(lease), context.clock.now()));
  if (!options.dryRun) await Promise.all(dead.map((lease) => deleteLease(context, lease)));
  return dead.map((lease) => lease.metadata?.name ?? '');
}
