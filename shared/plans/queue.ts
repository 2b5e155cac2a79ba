import type { V1Lease } from '@kubernetes/client-node';
import { LABELS, LEGACY_TICKET_LABEL, QUEUED_LABEL } from '../instances/metadata.ts';
import type { InstanceRecord, InstanceStatus } from '../model/record.ts';

/**
 * The queue at the limits. A create that asks to wait is a record in phase
 * queued: its Instance record, made first, named after the instance, which
 * the Idempotency-Key names, so that a re-sent request finds it and keeps
 * its place. A queued record holds no slot, so it counts toward no limit;
 * the slots stay the only thing that makes the limits exact.
 *
 * Its place is `spec.queue.since` (milliseconds, written by the create that
 * made it: `creationTimestamp` has whole seconds only, which would tie
 * creates started within a second), then its name. It is live while its
 * waiter holds it: `status.operation` (kind create, from queued) with a
 * holder and a deadline, which only the waiter moves on, by a conditional
 * status write. One past its deadline belongs to a waiter that went away:
 * it is passed over, and removed by the next waiter that sees it or by the
 * sweep.
 */

/** A place in line, as the queue's order reads it from a queued record. */
export interface Place {
  readonly name: string;
  readonly ownerHash: string;
  /** When it joined the line: its place. */
  readonly sinceMs: number;
  /** Until when it stays in line without a renewal. */
  readonly deadlineMs: number;
  readonly holder: string;
}

/** The queue's settings, from the configuration. */
export interface QueueSettings {
  /** How long a queued record stays live without a renewal; its waiter renews it every third of that. */
  readonly leaseMs: number;
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
export function queueSettings(input: { createTimeoutMs: number; waitTimeoutMs: number; leaseMs: number }): QueueSettings {
  return {
    leaseMs: input.leaseMs,
    requestBoundMs: input.createTimeoutMs - input.waitTimeoutMs - QUEUE_MARGIN_SECONDS * 1000,
    pollMs: QUEUE_POLL_MS,
  };
}

/** One queued create: the settings, and how long the caller will wait in all (from its place's taking). */
export interface QueuePlan extends QueueSettings {
  readonly timeoutMs?: number;
}

/** Every queued record of this allocator: the line, before its order. */
export function queuedSelector(serverName: string): string {
  return `${LABELS.allocator}=${serverName},${QUEUED_LABEL}`;
}

/** The hold of a waiter: the create's, from queued, until `deadlineMs`. */
function waiting(holder: string, deadlineMs: number): NonNullable<InstanceStatus['operation']> {
  return { kind: 'create', holder, deadline: new Date(deadlineMs).toISOString(), from: 'queued' };
}

/**
 * A create's planned record as it joins the line: labelled as queued, with
 * its place (now, or `sinceMs`: a place carried over), how long it stays
 * unrenewed, and when its caller gives up (counted from its place).
 */
export function queuedRecord(input: {
  record: InstanceRecord;
  nowMs: number;
  sinceMs?: number;
  leaseMs: number;
  timeoutMs?: number;
}): InstanceRecord {
  const { record } = input;
  const since = input.sinceMs ?? input.nowMs;
  return {
    ...record,
    metadata: { ...record.metadata, labels: { ...record.metadata.labels, [QUEUED_LABEL]: 'create' } },
    spec: {
      ...record.spec,
      queue: {
        since: new Date(since).toISOString(),
        leaseSeconds: Math.ceil(input.leaseMs / 1000),
        ...(input.timeoutMs === undefined ? {} : { timeoutAt: new Date(since + input.timeoutMs).toISOString() }),
      },
    },
  };
}

/** The name of the ticket Lease that a release before queued records took for `instance`. */
export function legacyTicketName(instance: string): string {
  return `${instance}-ticket`;
}

/** A ticket of a release before queued records, as the upgrade reads it: whose, its place, and until when its waiter held it. */
export interface LegacyTicket {
  readonly ownerHash: string;
  readonly sinceMs: number;
  readonly deadlineMs: number;
}

/** Reads a ticket Lease; undefined for a Lease that is none. Times it cannot read make it dead, and its place last. */
export function legacyTicketOf(lease: V1Lease): LegacyTicket | undefined {
  const labels = lease.metadata?.labels ?? {};
  if (labels[LEGACY_TICKET_LABEL] === undefined) return undefined;
  const since = microTimeMs(lease.spec?.acquireTime);
  const renewed = microTimeMs(lease.spec?.renewTime);
  return {
    ownerHash: labels[LABELS.ownerHash] ?? '',
    sinceMs: Number.isNaN(since) ? Number.POSITIVE_INFINITY : since,
    deadlineMs: Number.isNaN(renewed) ? Number.NEGATIVE_INFINITY : renewed + (lease.spec?.leaseDurationSeconds ?? 0) * 1000,
  };
}

/**
 * The place a re-send keeps from the ticket its create took under a release
 * before queued records: the ticket's, if it is that caller's and still live
 * (its waiter there is done: a caller re-sends once a request has answered).
 */
export function legacyPlaceOf(lease: V1Lease | undefined, input: { ownerHash: string; nowMs: number }): number | undefined {
  const ticket = lease && legacyTicketOf(lease);
  if (!ticket || ticket.ownerHash !== input.ownerHash || ticket.deadlineMs < input.nowMs) return undefined;
  return Number.isFinite(ticket.sinceMs) ? ticket.sinceMs : undefined;
}

/** A Lease's MicroTime, as client-node reads it (a Date) or as it is written (RFC 3339 text). */
function microTimeMs(value: unknown): number {
  return value instanceof Date ? value.getTime() : Date.parse(String(value ?? ''));
}

/** The status a waiter writes: in line, held by it until a lease time from now. */
export function queuedStatus(input: { holder: string; nowMs: number; leaseMs: number }): InstanceStatus {
  return { phase: 'queued', operation: waiting(input.holder, input.nowMs + input.leaseMs) };
}

/** A waiter's renewal: its deadline moved on, its holder left alone (one replaced cannot take the place back). */
export function renewedStatus(place: Place, input: { nowMs: number; leaseMs: number }): InstanceStatus {
  return { phase: 'queued', operation: waiting(place.holder, input.nowMs + input.leaseMs) };
}

/**
 * The place handed to the request now waiting in it (a re-sent one), without
 * renewing it: only a waiter that is still there after a look renews, so a
 * caller that re-sends and hangs up at once lets its place die.
 */
export function handedOverStatus(place: Place, holder: string): InstanceStatus {
  return { phase: 'queued', operation: waiting(holder, place.deadlineMs) };
}

/**
 * Reads a place from a queued record. A record whose waiter never wrote its
 * status is held until its lease time from its place; a place it cannot read
 * sorts last and is dead.
 */
export function placeOf(record: InstanceRecord): Place {
  const since = Date.parse(record.spec.queue?.since ?? '');
  const held = record.status.operation?.kind === 'create' ? record.status.operation : undefined;
  const deadline = held ? Date.parse(held.deadline) : since + (record.spec.queue?.leaseSeconds ?? 0) * 1000;
  return {
    name: record.metadata.name,
    ownerHash: record.metadata.labels[LABELS.ownerHash] ?? '',
    sinceMs: Number.isNaN(since) ? Number.POSITIVE_INFINITY : since,
    deadlineMs: Number.isNaN(deadline) ? Number.NEGATIVE_INFINITY : deadline,
    holder: held?.holder ?? '',
  };
}

/** Whether a place's waiter held it within its deadline. */
export function isLive(place: Place, nowMs: number): boolean {
  return place.deadlineMs >= nowMs;
}

/** The line: the records in phase queued, as places (a claim's first write may have taken the label off one already). */
export function lineOf(records: readonly InstanceRecord[]): Place[] {
  return records.filter((record) => record.status.phase === 'queued').map(placeOf);
}

/** Oldest first; places taken in the same millisecond by name. */
export function queueOrder(a: Place, b: Place): number {
  return a.sinceMs - b.sinceMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** The free slots, as the taken ones were listed. */
export interface Room {
  readonly globalFree: number;
  /** Per-user slots free for an owner (by owner hash). */
  readonly userFree: (ownerHash: string) => number;
}

/** Where a place stands: whether it may claim now, and how many live places are ahead of it. */
export interface Turn {
  readonly mayClaim: boolean;
  readonly ahead: number;
}

/**
 * Who may claim. Walking the live places oldest first, a place is in the
 * running when its owner has a per-user slot free for it (an owner's own
 * oldest places get that owner's free slots). Only the first in the
 * running may claim, and only while a global slot is free: so a freed
 * global slot goes to the oldest place overall, a freed per-user slot to
 * that caller's own oldest, and a caller at their own limit holds up nobody
 * else. Claims go one at a time, in order: the next may claim once the one
 * before has claimed and left the line. Dead places count for nothing, and
 * a place whose waiter went away dies by its deadline, since only a waiter
 * moves it on. `mine` is judged as live: its waiter is the one asking.
 */
export function turnOf(places: readonly Place[], mine: string, room: Room, nowMs: number): Turn {
  const line = places.filter((place) => place.name === mine || isLive(place, nowMs)).sort(queueOrder);
  const perOwner = new Map<string, number>();
  let running = 0;
  let ahead = 0;
  for (const place of line) {
    const ownersBefore = perOwner.get(place.ownerHash) ?? 0;
    perOwner.set(place.ownerHash, ownersBefore + 1);
    const inRunning = ownersBefore < room.userFree(place.ownerHash);
    if (place.name === mine) return { mayClaim: inRunning && running === 0 && room.globalFree > 0, ahead };
    ahead += 1;
    if (inRunning) running += 1;
  }
  return { mayClaim: false, ahead };
}
