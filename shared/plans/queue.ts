import type { V1Lease } from '@kubernetes/client-node';
import { LABELS, TICKET_LABEL } from '../instances/metadata.ts';

/**
 * The queue at the limits. A create that asks to wait takes a ticket: a
 * Lease named after its instance, which the Idempotency-Key names, so that
 * a re-sent request finds its ticket and keeps its place. Tickets are not
 * slots (another label), so they never count toward a limit; the slots
 * stay the only thing that makes the limits exact.
 *
 * A ticket's place is its `acquireTime` (microseconds, written by the
 * create that took it), then its name: `creationTimestamp` has whole
 * seconds only, which would tie creates started within a second. A ticket
 * is live while it is renewed: one whose `renewTime` is older than its
 * `leaseDurationSeconds` belongs to a waiter that went away, and is
 * passed over (and removed by the sweep).
 */
export { TICKET_LABEL };

/** A ticket as the queue's order reads it. */
export interface Ticket {
  readonly name: string;
  readonly ownerHash: string;
  /** When it was taken: its place in the queue. */
  readonly takenAtMs: number;
  readonly renewedAtMs: number;
  readonly leaseMs: number;
  readonly holder: string;
}

/** The queue's settings, from the configuration. */
export interface QueueSettings {
  /** How long a ticket stays live without a renewal; it is renewed every third of that. */
  readonly ticketMs: number;
  /** How long one request waits before answering its place (409 ABORTED), under the function's timeout. */
  readonly requestBoundMs: number;
  /** How often a waiter looks again (with jitter). */
  readonly pollMs: number;
}

/**
 * What a create needs after its wait in the queue, besides the readiness
 * wait: the disk, the Deployment, the binding, each a call or a few.
 */
export const QUEUE_MARGIN_SECONDS = 20;

/** How often a waiter looks again, before jitter (half to one and a half times this). */
export const QUEUE_POLL_MS = 1_000;

/**
 * The settings, derived from the function's timeout so that a request's wait
 * in the queue plus its readiness wait and the margin fit within it.
 */
export function queueSettings(input: { createTimeoutMs: number; waitTimeoutMs: number; ticketMs: number }): QueueSettings {
  return {
    ticketMs: input.ticketMs,
    requestBoundMs: input.createTimeoutMs - input.waitTimeoutMs - QUEUE_MARGIN_SECONDS * 1000,
    pollMs: QUEUE_POLL_MS,
  };
}

/** One queued create: the settings, and how long the caller will wait in all (from its ticket's taking). */
export interface QueuePlan extends QueueSettings {
  readonly timeoutMs?: number;
}

export function ticketName(instance: string): string {
  return `${instance}-ticket`;
}

/** Every ticket of this allocator. */
export function ticketSelector(serverName: string): string {
  return `${LABELS.allocator}=${serverName},${TICKET_LABEL}`;
}

/** Kubernetes' MicroTime: RFC 3339 with six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function ticketLease(input: {
  serverName: string;
  instance: string;
  ownerHash: string;
  holder: string;
  nowMs: number;
  ticketMs: number;
}): V1Lease {
  const now = microTime(input.nowMs);
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: ticketName(input.instance),
      labels: {
        [LABELS.allocator]: input.serverName,
        [TICKET_LABEL]: 'create',
        [LABELS.ownerHash]: input.ownerHash,
        [LABELS.instance]: input.instance,
      },
    },
    spec: {
      holderIdentity: input.holder,
      // client-node types MicroTime fields as Dates but sends strings as they are: the format the API server keeps.
      acquireTime: now as unknown as Date,
      renewTime: now as unknown as Date,
      leaseDurationSeconds: Math.ceil(input.ticketMs / 1000),
    },
  };
}

/**
 * The merge patch that renews a ticket; with `holder`, it also hands the
 * ticket to the request now waiting in its place (a re-sent one). A waiter's
 * own renewals leave the holder alone, so one that was replaced cannot take
 * the ticket back: it sees the new holder at its next look and stops.
 */
export function ticketRenewal(nowMs: number): object {
  return { spec: { renewTime: microTime(nowMs) } };
}

/**
 * The merge patch that hands a live ticket to the request now waiting in its
 * place (a re-sent one), without renewing it: only a waiter that is still
 * there after a sleep renews, so a caller that re-sends and hangs up at once
 * lets its ticket die.
 */
export function ticketHandover(holder: string): object {
  return { spec: { holderIdentity: holder } };
}

function timeMs(value: unknown): number {
  const ms = value instanceof Date ? value.getTime() : Date.parse(String(value ?? ''));
  return Number.isFinite(ms) ? ms : Number.NaN;
}

/** Reads a ticket from its Lease; a place it cannot read sorts last (and, without a renewal, the ticket is dead). */
export function ticketFromLease(lease: V1Lease): Ticket {
  const taken = timeMs(lease.spec?.acquireTime ?? lease.metadata?.creationTimestamp);
  return {
    name: lease.metadata?.name ?? '',
    ownerHash: lease.metadata?.labels?.[LABELS.ownerHash] ?? '',
    takenAtMs: Number.isNaN(taken) ? Number.POSITIVE_INFINITY : taken,
    renewedAtMs: timeMs(lease.spec?.renewTime),
    leaseMs: (lease.spec?.leaseDurationSeconds ?? 0) * 1000,
    holder: lease.spec?.holderIdentity ?? '',
  };
}

/** Whether a ticket's waiter renewed it within its lease time. */
export function isLive(ticket: Ticket, nowMs: number): boolean {
  return ticket.renewedAtMs + ticket.leaseMs >= nowMs;
}

/** Oldest first; tickets taken in the same microsecond by name. */
export function queueOrder(a: Ticket, b: Ticket): number {
  return a.takenAtMs - b.takenAtMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** The free slots, as the taken ones were listed. */
export interface Room {
  readonly globalFree: number;
  /** Per-user slots free for an owner (by owner hash). */
  readonly userFree: (ownerHash: string) => number;
}

/** Where a ticket stands: whether it may claim now, and how many live tickets are ahead of it. */
export interface Turn {
  readonly mayClaim: boolean;
  readonly ahead: number;
}

/**
 * Who may claim. Walking the live tickets oldest first, a ticket is in the
 * running when its owner has a per-user slot free for it (an owner's own
 * oldest tickets get that owner's free slots). Only the first in the
 * running may claim, and only while a global slot is free: so a freed
 * global slot goes to the oldest ticket overall, a freed per-user slot to
 * that caller's own oldest, and a caller at their own limit holds up nobody
 * else. Claims go one at a time, in order: the next may claim once the one
 * before has claimed and let its ticket go. Dead tickets count for nothing,
 * and a ticket whose waiter went away dies within its lease time, since only
 * a waiter renews it. `mine` is judged as live: its waiter is the one asking.
 */
export function turnOf(tickets: readonly Ticket[], mine: string, room: Room, nowMs: number): Turn {
  const line = tickets.filter((ticket) => ticket.name === mine || isLive(ticket, nowMs)).sort(queueOrder);
  const perOwner = new Map<string, number>();
  let running = 0;
  let ahead = 0;
  for (const ticket of line) {
    const ownersBefore = perOwner.get(ticket.ownerHash) ?? 0;
    perOwner.set(ticket.ownerHash, ownersBefore + 1);
    const inRunning = ownersBefore < room.userFree(ticket.ownerHash);
    if (ticket.name === mine) return { mayClaim: inRunning && running === 0 && room.globalFree > 0, ahead };
    ahead += 1;
    if (inRunning) running += 1;
  }
  return { mayClaim: false, ahead };
}
