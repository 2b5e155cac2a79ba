import { describe, expect, it } from 'vitest';
import { AllocatorApiError, MissingIdentityError } from '../../../client/errors.ts';
import { formatAge, formatError, formatInstanceBlock, printable } from '../../../cli/format.ts';

describe('formatInstanceBlock', () => {
  it('prints one aligned block, escaping newlines', () => {
    const block = formatInstanceBlock(
      {
        name: 'syncbased-1a2b3c4d',
        owner: 'a\nb@example.com',
        mountName: '/m/x',
        accessList: { In: ['a@x', 'root@x'] },
        creationTime: '2026-11-25T00:00:00.000Z',
        replicas: 1,
        readyReplicas: 0,
        version: 'v1',
        disk: 'syncbased-1a2b3c4d',
        expiresAt: null,
        parameters: { imageTag: 'pr-1\nx' },
        state: 'failing' as const,
        problems: [
          { reason: 'ImagePullBackOff', message: 'syncbased: Back-off pulling image', since: '2026-11-25T00:01:00.000Z', permanent: false },
        ],
      },
      Date.parse('2026-11-25T00:05:30.000Z'),
    );
    expect(block).toBe(
      [
        'Name:       syncbased-1a2b3c4d',
        'State:      failing',
        'MountName:  /m/x',
        'Owner:      a\\nb@example.com',
        'Created:    2026-11-25T00:00:00.000Z (5m30s ago)',
        'Replicas:   0/1 ready',
        'Version:    v1',
        'Disk:       syncbased-1a2b3c4d',
        'Expires:    never',
        'AccessList: a@x, root@x',
        'Parameter:  imageTag=pr-1\\nx',
        'Problem:    ImagePullBackOff since 2026-11-25T00:01:00.000Z: syncbased: Back-off pulling image',
      ].join('\n'),
    );
  });

  it("ends with what the server's table lets the caller do to it now, when the answer says", () => {
    const instance = {
      name: 'syncbased-1a2b3c4d',
      owner: 'ada@example.com',
      mountName: '/m/x',
      accessList: { In: [] },
      creationTime: '2026-11-25T00:00:00.000Z',
      replicas: 0,
      readyReplicas: 0,
      version: 'v1',
      disk: 'syncbased-1a2b3c4d',
      expiresAt: null,
      parameters: {},
      state: 'suspended' as const,
      problems: [],
    };
    const now = Date.parse('2026-11-25T00:05:30.000Z');
    expect(
      formatInstanceBlock({ ...instance, operations: ['extend', 'resume', 'destroy'] }, now)
        .split('\n')
        .at(-1),
    ).toBe('YouMay:     extend, resume, destroy');
    expect(
      formatInstanceBlock({ ...instance, operations: [] }, now)
        .split('\n')
        .at(-1),
    ).toBe('YouMay:     nothing now');
    expect(formatInstanceBlock(instance, now)).not.toContain('YouMay');
  });

  it('escapes every control character, so that no terminal escape sequence reaches the terminal (issue 29)', () => {
    const ESC = '\u001b';
    const block = formatInstanceBlock(
      {
        name: 'syncbased-1a2b3c4d',
        owner: `mallory${ESC}]0;pwned\u0007@example.com`,
        mountName: '/m/x',
        accessList: { In: [`a${ESC}[2J@x`, 'root@x'] },
        creationTime: '2026-11-25T00:00:00.000Z',
        replicas: 1,
        readyReplicas: 1,
        version: 'v1',
        disk: 'syncbased-1a2b3c4d',
        expiresAt: null,
        parameters: { note: `a\tb\rc\u009b31md\u007f` },
        state: 'ready' as const,
        problems: [],
        collaborators: [`bea${ESC}[31m@example.com`],
      },
      Date.parse('2026-11-25T00:05:30.000Z'),
    );
    expect(block).not.toMatch(/(?!\n)\p{Cc}/u); // the lines are split by newlines
    expect(block.split('\n')).toEqual(
      expect.arrayContaining([
        'Owner:      mallory\\x1b]0;pwned\\x07@example.com',
        'SharedWith: bea\\x1b[31m@example.com',
        'AccessList: a\\x1b[2J@x, root@x',
        'Parameter:  note=a\\tb\\rc\\x9b31md\\x7f',
      ]),
    );
  });

  it.each([
    [0, '0s'],
    [59_000, '59s'],
    [61_000, '1m01s'],
    [3_660_000, '1h01m'],
    [3 * 86_400_000, '3d'],
  ])('formats an age of %i ms as %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});

describe('printable', () => {
  it.each([
    ['plain text', 'ada@example.com', 'ada@example.com'],
    ['a newline and a tab', 'a\nb\tc', 'a\\nb\\tc'],
    ['ESC, BEL, DEL and a C1 CSI', '\u001b[2J\u0007\u007f\u009b', '\\x1b[2J\\x07\\x7f\\x9b'],
    ['non-ASCII text', 'zoë 😀', 'zoë 😀'],
  ])('%s', (_label, text, shown) => {
    expect(printable(text)).toBe(shown);
  });
});

describe('formatError', () => {
  it.each([
    [new AllocatorApiError(429, 'RESOURCE_EXHAUSTED', 'limit reached'), 'limit reached (429 RESOURCE_EXHAUSTED)'],
    [
      new AllocatorApiError(400, 'INVALID_ARGUMENT', '"\u001b[2Jeve@x" is not an email'),
      '"\\x1b[2Jeve@x" is not an email (400 INVALID_ARGUMENT)',
    ],
    [new Error('a\u001b]0;x\u0007', { cause: new Error('b\u009b') }), 'a\\x1b]0;x\\x07: b\\x9b'],
    [new AllocatorApiError(0, 'UNAVAILABLE', 'cannot reach x: ECONNREFUSED'), 'cannot reach x: ECONNREFUSED'],
    [new MissingIdentityError('no identity'), 'no identity'],
    [new MissingIdentityError('no identity. Either:\n  - sign in\u001b[2J'), 'no identity. Either:\n  - sign in\\x1b[2J'],
    [new Error('boom'), 'boom'],
    [new Error('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') }), 'fetch failed: connect ECONNREFUSED 127.0.0.1:9'],
  ])('%s -> %s', (error, text) => {
    expect(formatError(error)).toBe(text);
  });
});
