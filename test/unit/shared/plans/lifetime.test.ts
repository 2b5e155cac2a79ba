import { describe, expect, it } from 'vitest';
import { expiryFor, extensionExpiry, isExpired, resolveLifetimeSeconds } from '../../../../shared/plans/lifetime.ts';

describe('resolveLifetimeSeconds', () => {
  it.each([
    [undefined, { defaultSeconds: 0, maxSeconds: 0 }, 0],
    [undefined, { defaultSeconds: 3600, maxSeconds: 86_400 }, 3600],
    [60, { defaultSeconds: 3600, maxSeconds: 86_400 }, 60],
    [86_400, { defaultSeconds: 3600, maxSeconds: 86_400 }, 86_400],
    [0, { defaultSeconds: 0, maxSeconds: 0 }, 0],
    [999_999, { defaultSeconds: 0, maxSeconds: 0 }, 999_999],
  ])('asked %j with %j gives %i', (requested, limits, expected) => {
    expect(resolveLifetimeSeconds(requested, limits)).toBe(expected);
  });

  it.each([
    [86_401, /at most 86400 \(1 d\)/],
    [0, /at most 86400/],
  ])('refuses %i over a maximum', (requested, message) => {
    expect(() => resolveLifetimeSeconds(requested, { defaultSeconds: 3600, maxSeconds: 86_400 })).toThrow(
      expect.objectContaining({ status: 400, message: expect.stringMatching(message) }),
    );
  });
});

describe('expiry', () => {
  it('is absent for a lifetime of 0 and an ISO time otherwise', () => {
    expect(expiryFor(0, 0)).toBeUndefined();
    expect(expiryFor(60, Date.parse('2026-11-25T00:00:00Z'))).toBe('2026-11-25T00:01:00.000Z');
  });

  it.each([
    [undefined, false],
    ['2026-11-25T00:00:00.000Z', true],
    ['2026-11-25T00:00:01.000Z', false],
    ['not a time', false],
  ])('%j is expired at midnight: %s', (expiresAt, expected) => {
    expect(isExpired(expiresAt, Date.parse('2026-11-25T00:00:00Z'))).toBe(expected);
  });
});

describe('extensionExpiry', () => {
  const now = Date.parse('2026-11-25T00:00:00Z');
  it.each([
    [7200, { defaultSeconds: 3600, maxSeconds: 86_400 }, '2026-11-25T02:00:00.000Z'],
    [undefined, { defaultSeconds: 3600, maxSeconds: 86_400 }, '2026-11-25T01:00:00.000Z'],
    [undefined, { defaultSeconds: 0, maxSeconds: 0 }, undefined],
    [60, { defaultSeconds: 0, maxSeconds: 0 }, '2026-11-25T00:01:00.000Z'],
  ])('asked %j with %j expires at %j', (requested, limits, expected) => {
    expect(extensionExpiry(requested, limits, now)).toBe(expected);
  });
});
