import { describe, expect, it } from 'vitest';
import { expiryFor, isExpired, resolveLifetimeSeconds } from '../../../../shared/allocator/lifetime.ts';
import { parseCreateRequest, parseExtendRequest } from '../../../../shared/handlers/create-handler.ts';
import { parseSweepRequest } from '../../../../shared/handlers/destroy-handler.ts';

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
    expect(() => resolveLifetimeSeconds(requested, { defaultSeconds: 3600, maxSeconds: 86_400 })).toThrow(expect.objectContaining({ status: 400, message: expect.stringMatching(message) }));
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

describe('lifetime requests', () => {
  it('create takes lifetimeSeconds', () => {
    expect(parseCreateRequest({ lifetimeSeconds: 0 })).toEqual({ wait: true, lifetimeSeconds: 0 });
    expect(() => parseCreateRequest({ lifetimeSeconds: -1 })).toThrow(/"lifetimeSeconds" must be a whole number of seconds >= 0/);
  });

  it.each([
    [{ name: 'x' }, { name: 'x' }],
    [{ name: 'x', lifetimeSeconds: 60 }, { name: 'x', lifetimeSeconds: 60 }],
  ])('extend %j', (body, expected) => {
    expect(parseExtendRequest(body)).toEqual(expected);
  });

  it.each([{}, { name: 'x', lifetimeSeconds: 0 }, { name: 'x', wait: true }])('extend refuses %j', (body) => {
    expect(() => parseExtendRequest(body)).toThrow(expect.objectContaining({ status: 400 }));
  });

  it.each([
    [{}, { dryRun: false }],
    [{ dryRun: true }, { dryRun: true }],
  ])('sweep %j', (body, expected) => {
    expect(parseSweepRequest(body)).toEqual(expected);
  });

  it.each([{ dryRun: 'yes' }, { all: true }])('sweep refuses %j', (body) => {
    expect(() => parseSweepRequest(body)).toThrow(expect.objectContaining({ status: 400 }));
  });
});
