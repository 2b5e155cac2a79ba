import { describe, expect, it } from 'vitest';
import { describePosition, queuedInfo, readQueuePosition } from '../../../../shared/api/queue-position.ts';
import { toHttpError, AbortedError } from '../../../../shared/errors.ts';
import { LABELS, LEGACY_TICKET_LABEL, QUEUED_LABEL } from '../../../../shared/instances/metadata.ts';
import { newRecord, parseRecord, type InstanceRecord } from '../../../../shared/model/record.ts';
import {
  handedOverStatus,
  isLive,
  legacyPlaceOf,
  legacyTicketName,
  legacyTicketOf,
  lineOf,
  placeOf,
  queuedRecord,
  queuedSelector,
  queuedStatus,
  queueOrder,
  queueSettings,
  renewedStatus,
  turnOf,
  type Place,
  type Room,
} from '../../../../shared/plans/queue.ts';

const NOW = Date.parse('2026-12-02T08:00:00.000Z');
const LEASE_MS = 20_000;

/** A live place of `owner`, taken `ageMs` ago and renewed `renewedAgoMs` ago. */
function ticket(name: string, owner: string, ageMs: number, renewedAgoMs = 0): Place {
  return { name, ownerHash: owner, sinceMs: NOW - ageMs, deadlineMs: NOW - renewedAgoMs + LEASE_MS, holder: `${name}/h` };
}

function room(globalFree: number, userFree: Record<string, number> = {}, perUserDefault = 5): Room {
  return { globalFree, userFree: (owner) => userFree[owner] ?? perUserDefault };
}

/** Which places may claim, of `tickets`, each asking for itself. */
function claimers(tickets: Place[], r: Room): string[] {
  return tickets.filter((t) => turnOf(tickets, t.name, r, NOW).mayClaim).map((t) => t.name);
}

describe('turnOf: who may claim a freed slot', () => {
  const a1 = ticket('a1', 'A', 5_000);
  const b1 = ticket('b1', 'B', 4_000);
  const a2 = ticket('a2', 'A', 3_000);
  const c1 = ticket('c1', 'C', 2_000);

  it('gives a freed global slot to the oldest ticket overall, and says how many are ahead', () => {
    const all = [c1, a2, b1, a1]; // any order in, oldest first inside
    expect(claimers(all, room(1))).toEqual(['a1']);
    expect(turnOf(all, 'c1', room(1), NOW)).toEqual({ mayClaim: false, ahead: 3 });
    expect(turnOf(all, 'a1', room(1), NOW)).toEqual({ mayClaim: true, ahead: 0 });
  });

  it('lets claims go one at a time, in order, however many slots are free', () => {
    expect(claimers([a1, b1, a2, c1], room(3))).toEqual(['a1']);
    // Once a1 has claimed and let its ticket go, b1 is next.
    expect(claimers([b1, a2, c1], room(2))).toEqual(['b1']);
    expect(claimers([a1, b1, a2, c1], room(0))).toEqual([]);
  });

  it("gives a freed per-user slot to that caller's own oldest ticket", () => {
    // A has one per-user slot free: its oldest, a1, is in the running; a2 is not, so c1 comes before it.
    expect(claimers([a1, a2, c1], room(4, { A: 1 }))).toEqual(['a1']);
    expect(turnOf([a1, a2, c1], 'c1', room(4, { A: 1 }), NOW)).toEqual({ mayClaim: false, ahead: 2 });
    expect(claimers([a2, c1], room(4, { A: 0 }))).toEqual(['c1']); // a1 claimed: A is at its limit
    expect(claimers([a2, c1], room(4, { A: 1 }))).toEqual(['a2']); // one of A's instances went
  });

  it('lets a caller at their own limit hold up nobody else', () => {
    // A is at its per-user limit: its older tickets are passed over for the global slot.
    expect(claimers([a1, b1, a2, c1], room(1, { A: 0 }))).toEqual(['b1']);
    expect(turnOf([a1, b1, a2, c1], 'b1', room(1, { A: 0 }), NOW)).toEqual({ mayClaim: true, ahead: 1 });
  });

  it('passes over a ticket not renewed within its lease time, but never the asking one', () => {
    const dead = ticket('dead', 'D', 9_000, LEASE_MS + 1);
    expect(isLive(dead, NOW)).toBe(false);
    expect(isLive(ticket('edge', 'D', 9_000, LEASE_MS), NOW)).toBe(true);
    expect(turnOf([dead, a1, b1], 'a1', room(1), NOW)).toEqual({ mayClaim: true, ahead: 0 });
    expect(turnOf([dead, a1, b1], 'b1', room(1), NOW)).toEqual({ mayClaim: false, ahead: 1 });
    // Its own waiter is the one asking, so it is live to itself.
    expect(turnOf([dead, a1], 'dead', room(1), NOW).mayClaim).toBe(true);
  });

  it('breaks a tie of taking times by name, so every waiter computes the same order', () => {
    const x = ticket('x', 'X', 1_000);
    const y = ticket('y', 'Y', 1_000);
    expect([y, x].sort(queueOrder).map((t) => t.name)).toEqual(['x', 'y']);
    expect(claimers([y, x], room(1))).toEqual(['x']);
  });

  it('answers not yet for a ticket missing from the list', () => {
    expect(turnOf([a1], 'gone', room(5), NOW)).toEqual({ mayClaim: false, ahead: 1 });
  });
});

describe('queued creates as records', () => {
  const planned = newRecord({
    serverName: 'sb',
    name: 'sb-1234',
    phase: 'provisioning',
    spec: {
      owner: { email: 'ada@example.com' },
      collaborators: [],
      parameters: {},
      mountName: '/m',
      version: 'v1',
      createdAt: new Date(NOW).toISOString(),
      keyHash: 'k1',
      disk: { name: 'sb-1234', zone: 'z', pooled: false },
    },
  });
  /** As the API server answers it: with its own metadata, and no status until one is written. */
  const stored = (record: InstanceRecord, status?: InstanceRecord['status']): InstanceRecord =>
    parseRecord({ ...record, metadata: { ...record.metadata, uid: 'u1', resourceVersion: '7' }, status });

  it("are the planned record, labelled as in line, with their place, their lease time and their caller's timeout", () => {
    const record = queuedRecord({ record: planned, nowMs: NOW + 5, leaseMs: 20_000, timeoutMs: 60_000 });
    expect(record).toEqual({
      ...planned,
      metadata: { ...planned.metadata, labels: { ...planned.metadata.labels, [QUEUED_LABEL]: 'create' } },
      spec: {
        ...planned.spec,
        queue: { since: '2026-12-02T08:00:00.005Z', leaseSeconds: 20, timeoutAt: '2026-12-02T08:01:00.005Z' },
      },
    });
    expect(record.metadata.labels).not.toHaveProperty('allocator.dev/slot');
    expect(queuedSelector('sb')).toBe(`${LABELS.allocator}=sb,${QUEUED_LABEL}`);
    // Read back before its first status write, it is in line, held for its lease time from its place.
    const read = stored(record);
    expect(read.status).toEqual({ phase: 'queued' });
    expect(placeOf(read)).toEqual({
      name: 'sb-1234',
      ownerHash: planned.metadata.labels[LABELS.ownerHash],
      sinceMs: NOW + 5,
      deadlineMs: NOW + 5 + 20_000,
      holder: '',
    });
  });

  it("are held by their waiter as create's hold from queued; a renewal moves the deadline, a hand-over the holder alone", () => {
    const record = queuedRecord({ record: planned, nowMs: NOW, leaseMs: 20_000 });
    const status = queuedStatus({ holder: 'w1', nowMs: NOW, leaseMs: 20_000 });
    expect(status).toEqual({
      phase: 'queued',
      operation: { kind: 'create', holder: 'w1', deadline: '2026-12-02T08:00:20.000Z', from: 'queued' },
    });
    const place = placeOf(stored(record, status));
    expect(place).toMatchObject({ sinceMs: NOW, deadlineMs: NOW + 20_000, holder: 'w1' });
    expect(renewedStatus(place, { nowMs: NOW + 7_000, leaseMs: 20_000 }).operation).toEqual({
      kind: 'create',
      holder: 'w1',
      deadline: '2026-12-02T08:00:27.000Z',
      from: 'queued',
    });
    expect(handedOverStatus(place, 'w2').operation).toEqual({
      kind: 'create',
      holder: 'w2',
      deadline: '2026-12-02T08:00:20.000Z',
      from: 'queued',
    });
  });

  it('make the line of the records still in phase queued; one without a readable place sorts last and is dead', () => {
    const inLine = stored(queuedRecord({ record: planned, nowMs: NOW, leaseMs: 20_000 }));
    const claimed = stored(planned, { phase: 'provisioning' });
    expect(lineOf([inLine, claimed]).map((place) => place.name)).toEqual(['sb-1234']);
    const unreadable = placeOf(stored({ ...planned, spec: { ...planned.spec, queue: { since: 'soon', leaseSeconds: 20 } } }));
    expect(unreadable.sinceMs).toBe(Number.POSITIVE_INFINITY);
    expect(isLive(unreadable, NOW)).toBe(false);
  });
});

describe('the ticket Leases of a release before queued records', () => {
  const lease = (acquireTime: unknown, renewTime: unknown, labels: Record<string, string> = { [LEGACY_TICKET_LABEL]: 'create' }) => ({
    metadata: { name: legacyTicketName('sb-1234'), labels: { [LABELS.ownerHash]: 'o1', ...labels } },
    spec: { acquireTime: acquireTime as Date, renewTime: renewTime as Date, leaseDurationSeconds: 20 },
  });

  it.each([
    ['as written (MicroTime text)', '2026-12-02T08:00:00.005000Z', '2026-12-02T08:00:10.000000Z'],
    ['as client-node reads them (Dates)', new Date(NOW + 5), new Date(NOW + 10_000)],
  ])('read their owner, place and deadline, %s', (_how, acquireTime, renewTime) => {
    expect(legacyTicketName('sb-1234')).toBe('sb-1234-ticket');
    expect(legacyTicketOf(lease(acquireTime, renewTime))).toEqual({ ownerHash: 'o1', sinceMs: NOW + 5, deadlineMs: NOW + 30_000 });
  });

  it.each([
    ['its own live ticket: its place', 'o1', 10_000, NOW + 5],
    ["another caller's", 'o2', 10_000, undefined],
    ['a dead one', 'o1', 30_001, undefined],
  ])('give a re-send the place of %s', (_what, ownerHash, laterMs, kept) => {
    const ticket = lease('2026-12-02T08:00:00.005000Z', '2026-12-02T08:00:10.000000Z');
    expect(legacyPlaceOf(ticket, { ownerHash, nowMs: NOW + laterMs })).toBe(kept);
    expect(legacyPlaceOf(undefined, { ownerHash, nowMs: NOW })).toBeUndefined();
    expect(legacyPlaceOf(lease(undefined, '2026-12-02T08:00:10.000000Z'), { ownerHash: 'o1', nowMs: NOW })).toBeUndefined();
  });

  it('read a Lease without the ticket label as none, and one without times as dead and last', () => {
    expect(legacyTicketOf(lease(undefined, undefined, { 'allocator.dev/slot': 'key' }))).toBeUndefined();
    expect(legacyTicketOf(lease(undefined, undefined))).toEqual({
      ownerHash: 'o1',
      sinceMs: Number.POSITIVE_INFINITY,
      deadlineMs: Number.NEGATIVE_INFINITY,
    });
  });
});

describe('queueSettings', () => {
  it("derives one request's wait from the function's timeout, less the readiness wait and the margin", () => {
    expect(queueSettings({ createTimeoutMs: 300_000, waitTimeoutMs: 240_000, leaseMs: 20_000 })).toEqual({
      leaseMs: 20_000,
      requestBoundMs: 40_000,
      pollMs: 1_000,
    });
  });
});

describe('the place in line, as a 409 carries it', () => {
  it('is a Google ErrorInfo on a 409 ABORTED, read back by the client', () => {
    const answer = toHttpError(new AbortedError('queued', { retryAfterSeconds: 1, details: [queuedInfo(2)] }));
    expect(answer.status).toBe(409);
    expect(answer.headers['Retry-After']).toBe('1');
    expect(answer.body.error).toEqual({
      code: 409,
      status: 'ABORTED',
      message: 'queued',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'QUEUED',
          domain: 'allocator.dev',
          metadata: { position: '3', ahead: '2' },
        },
      ],
    });
    expect(readQueuePosition(answer.body)).toEqual({ position: 3, ahead: 2 });
  });

  it.each([
    [undefined],
    [{ error: { code: 409, status: 'ABORTED', message: 'a destroy is in progress' } }],
    [{ error: { details: [{ reason: 'QUEUED', domain: 'elsewhere', metadata: { position: '1', ahead: '0' } }] } }],
    [{ error: { details: [{ reason: 'QUEUED', domain: 'allocator.dev', metadata: { position: '0', ahead: '0' } }] } }],
  ])('is absent from any other answer: %j', (body) => {
    expect(readQueuePosition(body)).toBeUndefined();
  });

  it.each([
    [1, 0, '1st in line (0 ahead of you)'],
    [2, 1, '2nd in line (1 ahead of you)'],
    [3, 2, '3rd in line (2 ahead of you)'],
    [4, 3, '4th in line (3 ahead of you)'],
    [11, 10, '11th in line (10 ahead of you)'],
    [12, 11, '12th in line (11 ahead of you)'],
    [13, 12, '13th in line (12 ahead of you)'],
    [21, 20, '21st in line (20 ahead of you)'],
    [22, 21, '22nd in line (21 ahead of you)'],
  ])('reads %i as %s', (position, ahead, text) => {
    expect(describePosition({ position, ahead })).toBe(text);
  });
});
