import { describe, expect, it } from 'vitest';
import { AllocatorApiError, MissingIdentityError } from '../../../client/errors.ts';
import { formatAge, formatError, formatInstanceBlock } from '../../../cli/format.ts';

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

describe('formatError', () => {
  it.each([
    [new AllocatorApiError(429, 'RESOURCE_EXHAUSTED', 'limit reached'), 'limit reached (429 RESOURCE_EXHAUSTED)'],
    [new AllocatorApiError(0, 'UNAVAILABLE', 'cannot reach x: ECONNREFUSED'), 'cannot reach x: ECONNREFUSED'],
    [new MissingIdentityError('no identity'), 'no identity'],
    [new Error('boom'), 'boom'],
    [new Error('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') }), 'fetch failed: connect ECONNREFUSED 127.0.0.1:9'],
  ])('%s -> %s', (error, text) => {
    expect(formatError(error)).toBe(text);
  });
});
