import { describe, expect, it } from 'vitest';
import type { DiskInfo } from '../../../../shared/gce/disks.ts';
import { diskLabels, DISK_LABELS } from '../../../../shared/instances/metadata.ts';
import {
  claimedLabels,
  freePoolDisks,
  givenBackLabels,
  isFreePoolDisk,
  planPoolSweep,
  poolDiskLabels,
  poolDiskSpec,
  poolSpecHash,
} from '../../../../shared/plans/disk-pool.ts';

const disk = { sizeGb: 10, type: 'pd-standard' };
const SPEC = poolSpecHash(disk);
const serverName = 'syncbased';

const info = (name: string, overrides: Partial<DiskInfo> = {}): DiskInfo => ({
  name,
  sizeGb: '10',
  status: 'READY',
  labels: poolDiskLabels(serverName, SPEC, 'free'),
  users: [],
  creationTimestamp: '2026-01-01T00:00:00.000Z',
  labelFingerprint: `fp-${name}`,
  ...overrides,
});

describe('poolSpecHash', () => {
  it('changes with the source, the size and the type, and fits a label value', () => {
    const hashes = [
      poolSpecHash(disk),
      poolSpecHash({ ...disk, sizeGb: 20 }),
      poolSpecHash({ ...disk, type: 'pd-ssd' }),
      poolSpecHash({ ...disk, source: { snapshot: 'global/snapshots/a' } }),
      poolSpecHash({ ...disk, source: { snapshot: 'global/snapshots/b' } }),
      poolSpecHash({ ...disk, source: { image: 'global/images/a' } }),
    ];
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(poolSpecHash({ ...disk })).toBe(hashes[0]);
    for (const hash of hashes) expect(hash).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('poolDiskSpec', () => {
  it('is a disk like an instance’s, from the source, labelled free and with no instance or owner', () => {
    const source = { image: 'global/images/golden' };
    expect(poolDiskSpec({ serverName, disk: { ...disk, source } }, 'syncbased-0a0b0c0d')).toEqual({
      name: 'syncbased-0a0b0c0d',
      sizeGb: 10,
      type: 'pd-standard',
      source,
      labels: {
        allocator: 'syncbased',
        'allocator-pool': 'syncbased',
        'allocator-pool-state': 'free',
        'allocator-pool-spec': poolSpecHash({ ...disk, source }),
      },
    });
  });
});

describe('which pool disks are free', () => {
  const options = { serverName, specHash: SPEC };
  it.each([
    ['a free, ready disk of the current spec', info('a'), true],
    ['one still being made', info('a', { status: 'CREATING' }), false],
    ['one attached somewhere', info('a', { users: ['instances/vm'] }), false],
    ['one of another spec', info('a', { labels: poolDiskLabels(serverName, 'other', 'free') }), false],
    ['one the sweep is retiring', info('a', { labels: poolDiskLabels(serverName, SPEC, 'retiring') }), false],
    ['another allocator’s', info('a', { labels: poolDiskLabels('other', SPEC, 'free') }), false],
    ['a claimed one', info('a', { labels: claimedLabels(diskLabels({ serverName, ownerHash: 'h', name: 'a' }), info('a')) }), false],
  ])('%s: %s', (_what, candidate, free) => {
    expect(isFreePoolDisk(candidate, options)).toBe(free);
  });

  it('offers every free one, in an order drawn from the randomness given', () => {
    const listed = [info('a'), info('b', { status: 'CREATING' }), info('c'), info('d')];
    const first = freePoolDisks(listed, { ...options, random: () => 0 }).map((d) => d.name);
    const last = freePoolDisks(listed, { ...options, random: (bound) => bound - 1 }).map((d) => d.name);
    expect([...first].sort()).toEqual(['a', 'c', 'd']);
    expect([...last].sort()).toEqual(['a', 'c', 'd']);
    expect(first).not.toEqual(last);
  });

  it('gives a claimed disk back free, to the spec it was made to', () => {
    const claimed = info('a', { labels: claimedLabels(diskLabels({ serverName, ownerHash: 'h', name: 'a' }), info('a')) });
    expect(claimed.labels).toMatchObject({ [DISK_LABELS.instance]: 'a', [DISK_LABELS.poolSpec]: SPEC });
    expect(givenBackLabels(serverName, claimed)).toEqual(poolDiskLabels(serverName, SPEC, 'free'));
  });
});

describe('planPoolSweep', () => {
  const plan = (disks: DiskInfo[], size = 2) => planPoolSweep(disks, { serverName, size, specHash: SPEC });

  it('tops an empty or short pool up, counting disks being made', () => {
    expect(plan([])).toEqual({ make: 2, retire: [], free: 0 });
    expect(plan([info('a', { status: 'CREATING' })])).toEqual({ make: 1, retire: [], free: 1 });
    expect(plan([info('a'), info('b')])).toEqual({ make: 0, retire: [], free: 2 });
  });

  it('shrinks a pool beyond its size, keeping the oldest ready disks and never deleting one being made', () => {
    const disks = [
      info('new', { creationTimestamp: '2026-01-03T00:00:00.000Z' }),
      info('making', { status: 'CREATING', creationTimestamp: '2026-01-01T00:00:00.000Z' }),
      info('old', { creationTimestamp: '2026-01-01T00:00:00.000Z' }),
      info('mid', { creationTimestamp: '2026-01-02T00:00:00.000Z' }),
    ];
    expect(plan(disks)).toEqual({ make: 0, retire: [{ name: 'new', why: 'beyond-size' }], free: 4 });
    expect(
      plan(disks, 0)
        .retire.map((entry) => entry.name)
        .sort(),
    ).toEqual(['mid', 'new', 'old']);
  });

  it('replaces disks made to another disk setting, and deletes again those left retiring', () => {
    const stale = info('stale', { labels: poolDiskLabels(serverName, 'before', 'free') });
    const retiring = info('retiring', { labels: poolDiskLabels(serverName, SPEC, 'retiring') });
    expect(plan([stale, retiring, info('a')])).toEqual({
      make: 1,
      retire: [
        { name: 'stale', why: 'spec-changed' },
        { name: 'retiring', why: 'retiring' },
      ],
      free: 1,
    });
  });

  it('leaves attached disks and other allocators’ alone', () => {
    expect(plan([info('busy', { users: ['vm'] }), info('theirs', { labels: poolDiskLabels('other', SPEC, 'free') })])).toEqual({
      make: 2,
      retire: [],
      free: 0,
    });
  });
});
