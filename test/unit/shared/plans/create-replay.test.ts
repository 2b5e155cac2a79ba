import { describe, expect, it } from 'vitest';
import { checkReplay, IDEMPOTENCY_WINDOW_MS, judgeLeftovers, stillInProgress } from '../../../../shared/plans/create-plan.ts';

const NOW = Date.parse('2026-11-25T12:00:00.000Z');
const made = (keyHash: string | undefined, createdAtMs: number, parameters?: Record<string, string>) => ({
  metadata: {
    name: 'syncbased-1a2b3c4d',
    annotations: {
      ...(keyHash ? { 'allocator.dev/idempotency-key-hash': keyHash } : {}),
      'allocator.dev/created-at': new Date(createdAtMs).toISOString(),
      ...(parameters ? { 'allocator.dev/parameters': JSON.stringify(parameters) } : {}),
    },
  },
});

describe('checkReplay', () => {
  const tagged = { imageTag: 'pr-1', logLevel: 'info' };
  it.each([
    ['made by this key, just now', made('k', NOW - 1_000), {}, undefined],
    ['made by another key', made('other', NOW), {}, /already used for another instance/],
    ['made without a key', made(undefined, NOW), {}, /already used for another instance/],
    ['made by this key, over a day ago', made('k', NOW - IDEMPOTENCY_WINDOW_MS), {}, /has expired/],
    ['made by this key with the same parameters', made('k', NOW, tagged), { ...tagged }, undefined],
    ['made by this key with another value', made('k', NOW, tagged), { ...tagged, imageTag: 'pr-2' }, /other parameters \(imageTag\)/],
    ['made by this key without parameters, asked with some', made('k', NOW), tagged, /other parameters \(imageTag, logLevel\)/],
    ['made by this key with parameters, asked without', made('k', NOW, tagged), {}, /other parameters \(imageTag, logLevel\)/],
  ])('%s', (_label, existing, parameters, refusal) => {
    const run = () => checkReplay(existing, { keyHash: 'k', nowMs: NOW, parameters });
    if (refusal === undefined) expect(run).not.toThrow();
    else
      expect(run).toThrow(expect.objectContaining({ status: 409, statusName: 'ALREADY_EXISTS', message: expect.stringMatching(refusal) }));
  });
});

describe('judgeLeftovers', () => {
  it.each([
    [[], 'none'],
    [[NOW - 1_000], 'in-progress'],
    [[NOW - 61_000], 'interrupted'],
    [[NOW - 61_000, NOW - 1_000], 'in-progress'],
    [[Number.POSITIVE_INFINITY], 'in-progress'],
  ] as const)('%j with a 60 s grace: %s', (times, verdict) => {
    expect(judgeLeftovers(times, NOW, 60_000)).toBe(verdict);
  });

  it('says when a retry will clear what an interrupted try left, and asks for a retry within 5 s', () => {
    const error = stillInProgress('a create with this Idempotency-Key', [NOW - 20_000], NOW, 60_000);
    expect(error).toMatchObject({ status: 409, statusName: 'ABORTED', retryAfterSeconds: 5 });
    expect(error.message).toMatch(/cleared by a retry after 40 s/);
  });
});
