import { describe, expect, it } from 'vitest';
import {
  checkInstanceName,
  parseCreateRequest,
  parseExtendRequest,
  parseIdempotencyKey,
} from '../../../../shared/handlers/create-handler.ts';
import { parseDestroyRequest, parseSweepRequest } from '../../../../shared/handlers/destroy-handler.ts';
import { parseListQuery } from '../../../../shared/handlers/list-handler.ts';

describe('request parsing', () => {
  it.each([
    [{}, { wait: true }],
    [{ wait: false }, { wait: false }],
    [{ waitTimeoutSeconds: 30 }, { wait: true, waitTimeoutMs: 30_000 }],
  ])('create %j -> %j', (body, expected) => {
    expect(parseCreateRequest(body)).toEqual(expected);
  });

  it.each([
    [{ wait: 'no' }, /"wait" must be true or false/],
    [{ waitTimeoutSeconds: 0 }, /whole number of seconds >= 1/],
    [{ waitTimeoutSeconds: 1.5 }, /whole number/],
    [{ image: 'evil' }, /unknown field "image"; this request takes wait, waitTimeoutSeconds/],
  ])('create refuses %j', (body, message) => {
    expect(() => parseCreateRequest(body)).toThrow(expect.objectContaining({ status: 400, message: expect.stringMatching(message) }));
  });

  it.each([[{}], [{ name: 3 }], [{ name: '' }], [{ name: 'a', force: true }]])('destroy refuses %j', (body) => {
    expect(() => parseDestroyRequest(body)).toThrow(expect.objectContaining({ status: 400 }));
  });

  it.each([
    ['', { all: false }],
    ['all=true', { all: true }],
    ['all=false', { all: false }],
  ])('list ?%s -> %j', (query, expected) => {
    expect(parseListQuery(new URLSearchParams(query))).toEqual(expected);
  });

  it.each(['all=yes', 'owner=bob'])('list refuses ?%s', (query) => {
    expect(() => parseListQuery(new URLSearchParams(query))).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe('lifetime requests', () => {
  it('create takes lifetimeSeconds', () => {
    expect(parseCreateRequest({ lifetimeSeconds: 0 })).toEqual({ wait: true, lifetimeSeconds: 0 });
    expect(() => parseCreateRequest({ lifetimeSeconds: -1 })).toThrow(/"lifetimeSeconds" must be a whole number of seconds >= 0/);
  });

  it.each([
    [{ name: 'x' }, { name: 'x' }],
    [
      { name: 'x', lifetimeSeconds: 60 },
      { name: 'x', lifetimeSeconds: 60 },
    ],
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

describe('names and keys', () => {
  it.each([
    ['syncbased-1a2b3c4d', true],
    ['syncbased-1A2B3C4D', false],
    ['kube-dns', false],
    ['syncbased-1a2b3c4d5', false],
    ['other-1a2b3c4d', false],
  ])('%s is an instance name of syncbased: %s', (name, ok) => {
    if (ok) expect(checkInstanceName('syncbased', name)).toBe(name);
    else
      expect(() => checkInstanceName('syncbased', name)).toThrow(
        expect.objectContaining({ status: 400, message: expect.stringMatching(/they look like syncbased-1a2b3c4d/) }),
      );
  });

  it.each([
    [undefined, undefined],
    ['abc-123', 'abc-123'],
    [['first', 'second'], 'first'],
  ])('Idempotency-Key %j -> %j', (header, expected) => {
    expect(parseIdempotencyKey(header)).toBe(expected);
  });

  it.each(['', 'has space', 'x'.repeat(256), 'é'])('refuses Idempotency-Key %j', (header) => {
    expect(() => parseIdempotencyKey(header)).toThrow(expect.objectContaining({ status: 400 }));
  });
});
