import { describe, expect, it } from 'vitest';
import { OPERATIONS, type OperationId } from '../../../../shared/api/operations.ts';
import { asksForAdmin, parseIdempotencyKey, parseRequest, waitMsFor } from '../../../../shared/api/requests.ts';

const NAME = 'syncbased-1a2b3c4d';
const settings = { serverName: 'syncbased' };

function parse(operation: OperationId, body: Record<string, unknown> = {}, query = '', headers: Record<string, string> = {}) {
  return parseRequest(operation, { body, query: new URLSearchParams(query), headers }, settings);
}

describe('parseRequest, by the table', () => {
  it.each([
    ['create', {}, '', {}, { wait: true, queue: false }],
    ['create', { wait: false }, '', {}, { wait: false, queue: false }],
    [
      'create',
      { waitTimeoutSeconds: 30, lifetimeSeconds: 0 },
      '',
      {},
      { wait: true, waitTimeoutSeconds: 30, lifetimeSeconds: 0, queue: false },
    ],
    ['create', {}, '', { 'idempotency-key': 'k-1' }, { wait: true, idempotencyKey: 'k-1', queue: false }],
    [
      'create',
      { queue: true, queueTimeoutSeconds: 60 },
      '',
      { 'idempotency-key': 'k-1' },
      { wait: true, idempotencyKey: 'k-1', queue: true, queueTimeoutSeconds: 60 },
    ],
    ['extend', { name: NAME }, '', {}, { name: NAME }],
    ['extend', { name: NAME, lifetimeSeconds: 60 }, '', {}, { name: NAME, lifetimeSeconds: 60 }],
    ['resume', { name: NAME, wait: false }, '', {}, { name: NAME, wait: false }],
    ['reset', { name: NAME, waitTimeoutSeconds: 5 }, '', {}, { name: NAME, wait: true, waitTimeoutSeconds: 5 }],
    ['destroy', { name: NAME }, '', {}, { name: NAME, now: false }],
    ['destroy', { name: NAME, now: true }, '', {}, { name: NAME, now: true }],
    ['restore', { name: NAME }, '', {}, { name: NAME, wait: true }],
    ['destroyed', {}, 'all=true', {}, { all: true }],
    ['suspend', { name: NAME }, '', {}, { name: NAME }],
    ['sweep', {}, '', {}, { dryRun: false }],
    ['sweep', { dryRun: true }, '', {}, { dryRun: true }],
    ['list', {}, '', {}, { all: false }],
    ['list', {}, 'all=true', {}, { all: true }],
    ['list', {}, 'all=false', {}, { all: false }],
  ] as const)('%s %j ?%s %j -> %j', (operation, body, query, headers, expected) => {
    expect(parse(operation, body, query, headers)).toEqual(expected);
  });

  it.each([
    ['create', { wait: 'no' }, '', /"wait" must be true or false/],
    ['create', { waitTimeoutSeconds: 0 }, '', /"waitTimeoutSeconds" must be a whole number of seconds >= 1/],
    ['create', { waitTimeoutSeconds: 1.5 }, '', /whole number/],
    ['create', { lifetimeSeconds: -1 }, '', /"lifetimeSeconds" must be a whole number of seconds >= 0/],
    ['create', { queue: 'yes' }, '', /"queue" must be true or false/],
    ['create', { queue: true, queueTimeoutSeconds: 0 }, '', /"queueTimeoutSeconds" must be a whole number of seconds >= 1/],
    ['create', { image: 'evil' }, '', /unknown field "image"; this request takes wait, waitTimeoutSeconds, lifetimeSeconds/],
    ['destroy', { a: 1, b: 2, name: NAME }, '', /unknown fields "a", "b"; this request takes name, now/],
    ['destroy', { name: NAME, now: 'yes' }, '', /"now" must be true or false/],
    ['create', { name: NAME }, '', /unknown field "name"/],
    ['extend', {}, '', /"name" is required: the instance to extend/],
    ['extend', { name: NAME, lifetimeSeconds: 0 }, '', /"lifetimeSeconds" must be a whole number of seconds >= 1/],
    ['extend', { name: NAME, wait: true }, '', /unknown field "wait"/],
    ['destroy', {}, '', /"name" is required: the instance to destroy/],
    ['destroy', { name: 3 }, '', /"name" is required/],
    ['destroy', { name: '' }, '', /"name" is required/],
    ['destroy', { name: NAME, force: true }, '', /unknown field "force"/],
    ['suspend', { name: 'kube-dns' }, '', /"kube-dns" is not an instance name of this allocator; they look like syncbased-1a2b3c4d/],
    ['reset', { name: NAME, wait: 1 }, '', /"wait" must be true or false/],
    ['sweep', { dryRun: 'yes' }, '', /"dryRun" must be true or false/],
    ['sweep', { all: true }, '', /unknown field "all"/],
    ['list', {}, 'all=yes', /"all" must be true or false/],
    ['list', {}, 'owner=bob', /unknown query parameter "owner"; this query takes all/],
    ['list', { all: true }, '', /unknown field "all"; this request takes none/],
  ] as const)('%s refuses %j ?%s', (operation, body, query, message) => {
    expect(() => parse(operation, body, query)).toThrow(expect.objectContaining({ status: 400, message: expect.stringMatching(message) }));
  });

  it('reads an Idempotency-Key only where the table says the operation takes one', () => {
    expect(parse('destroy', { name: NAME }, '', { 'idempotency-key': 'k' })).toEqual({ name: NAME, now: false });
  });
});

describe('instance names', () => {
  it.each([
    ['syncbased-1a2b3c4d', true],
    ['syncbased-1A2B3C4D', false],
    ['kube-dns', false],
    ['syncbased-1a2b3c4d5', false],
    ['other-1a2b3c4d', false],
  ])('%s is an instance name of syncbased: %s', (name, ok) => {
    if (ok) expect(parse('destroy', { name })).toEqual({ name, now: false });
    else expect(() => parse('destroy', { name })).toThrow(expect.objectContaining({ status: 400 }));
  });

  it("publishes a pattern that admits exactly the names the server's check admits", () => {
    const pattern = new RegExp(OPERATIONS.destroy.body.name.schema.pattern as string);
    for (const name of ['syncbased-1a2b3c4d', 'a-b-00000000']) expect(pattern.test(name)).toBe(true);
    for (const name of ['syncbased-1A2B3C4D', 'kube-dns', '-1a2b3c4d', 'syncbased-1a2b3c4']) expect(pattern.test(name)).toBe(false);
  });
});

describe('Idempotency-Key', () => {
  it.each([
    [undefined, undefined],
    ['abc-123', 'abc-123'],
    [['first', 'second'], 'first'],
  ])('%j -> %j', (header, expected) => {
    expect(parseIdempotencyKey(header)).toBe(expected);
  });

  it.each(['', 'has space', 'x'.repeat(256), 'é'])('refuses %j', (header) => {
    expect(() => parseIdempotencyKey(header)).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe('waits and admin flags', () => {
  it.each([
    [{}, 240_000],
    [{ waitTimeoutSeconds: 30 }, 30_000],
    [{ waitTimeoutSeconds: 999_999 }, 240_000],
  ])('waits %j for %d ms, never beyond the limit', (request, expected) => {
    expect(waitMsFor(request, 240_000)).toBe(expected);
  });

  it.each([
    ['list', 'all=true', true],
    ['list', 'all=false', false],
    ['list', '', false],
    ['create', 'all=true', false],
  ] as const)('%s ?%s asks for admin: %s', (operation, query, expected) => {
    expect(asksForAdmin(operation, new URLSearchParams(query))).toBe(expected);
  });
});

describe('a query parameter given more than once (issue 29)', () => {
  it.each([
    ['list', 'all=false&all=true'],
    ['list', 'all=true&all=false'],
    ['destroyed', 'all=true&all=true'],
  ] as const)('%s ?%s: the admin check and the parser both refuse it, 400 naming it', (operation, query) => {
    const refusal = expect.objectContaining({
      status: 400,
      message: expect.stringMatching(/query parameter "all" is given 2 times; give it once/),
    });
    expect(() => asksForAdmin(operation, new URLSearchParams(query))).toThrow(refusal);
    expect(() => parse(operation, {}, query)).toThrow(refusal);
  });
});
