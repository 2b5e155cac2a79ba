import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { planSweep, stillAgrees, type SweepAction, type SweepSnapshot } from '../../../../shared/plans/sweep-plan.ts';

const NOW = Date.parse('2026-11-25T12:00:00.000Z');
const GRACE = 60_000;
const OLD = NOW - GRACE - 1;
const YOUNG = NOW - GRACE + 1_000;
const WINDOW = 86_400_000;
const PAST = '2026-11-25T11:00:00.000Z';
const FUTURE = '2026-11-25T13:00:00.000Z';
const iso = (ms: number) => new Date(ms).toISOString();
const empty: SweepSnapshot = { deployments: [], disks: [], slots: [], records: [] };

describe('planSweep', () => {
  it.each<[string, SweepSnapshot, SweepAction[]]>([
    [
      'nothing to do for a healthy instance',
      {
        ...empty,
        deployments: [{ name: 'a', createdAtMs: OLD, owner: 'o', expiresAt: FUTURE }],
        disks: [{ name: 'a', createdAtMs: OLD }],
        slots: [{ name: 's', instance: 'a', createdAtMs: OLD }],
      },
      [],
    ],
    [
      'an expired instance, whatever its age',
      {
        ...empty,
        deployments: [{ name: 'a', createdAtMs: YOUNG, owner: 'o', expiresAt: PAST }],
        disks: [{ name: 'a', createdAtMs: YOUNG }],
      },
      [{ kind: 'expired', name: 'a', owner: 'o', expiresAt: PAST }],
    ],
    [
      "an old per-user slot of an owner the instance no longer has (a transfer's), and not a young one or the owner's",
      {
        ...empty,
        deployments: [{ name: 'a', createdAtMs: OLD, owner: 'o', ownerHash: 'new' }],
        disks: [{ name: 'a', createdAtMs: OLD }],
        slots: [
          { name: 'u-old', instance: 'a', createdAtMs: OLD, ownerHash: 'old' },
          { name: 'u-young', instance: 'a', createdAtMs: YOUNG, ownerHash: 'other' },
          { name: 'u-new', instance: 'a', createdAtMs: OLD, ownerHash: 'new' },
          { name: 'g', instance: 'a', createdAtMs: OLD },
        ],
      },
      [{ kind: 'orphan-slot', name: 'u-old', instance: 'a', ownerHash: 'old' }],
    ],
    [
      'an old Deployment without its disk',
      { ...empty, deployments: [{ name: 'a', createdAtMs: OLD, owner: 'o' }] },
      [{ kind: 'orphan-deployment', name: 'a', createdAt: iso(OLD) }],
    ],
    [
      'a young Deployment without its disk (a create in flight)',
      { ...empty, deployments: [{ name: 'a', createdAtMs: YOUNG, owner: 'o' }] },
      [],
    ],
    [
      'an expired Deployment without its disk: expired, not both',
      { ...empty, deployments: [{ name: 'a', createdAtMs: OLD, owner: 'o', expiresAt: PAST }] },
      [{ kind: 'expired', name: 'a', owner: 'o', expiresAt: PAST }],
    ],
    [
      'an old disk without its Deployment',
      { ...empty, disks: [{ name: 'a', createdAtMs: OLD }] },
      [{ kind: 'orphan-disk', name: 'a', createdAt: iso(OLD) }],
    ],
    ['a young disk without its Deployment', { ...empty, disks: [{ name: 'a', createdAtMs: YOUNG }] }, []],
    ['a disk of unknown age', { ...empty, disks: [{ name: 'a', createdAtMs: Number.POSITIVE_INFINITY }] }, []],
    [
      'an old slot of a missing instance',
      { ...empty, slots: [{ name: 's', instance: 'gone', createdAtMs: OLD }] },
      [{ kind: 'orphan-slot', name: 's', instance: 'gone' }],
    ],
    ['a young slot of a missing instance', { ...empty, slots: [{ name: 's', instance: 'gone', createdAtMs: YOUNG }] }, []],
    [
      "an old disk without its Deployment that a record needs (a restore's, whose Deployment is still to come), and its slots",
      {
        ...empty,
        disks: [{ name: 'a', createdAtMs: OLD }],
        slots: [{ name: 's', instance: 'a', createdAtMs: OLD }],
        records: [{ name: 'a', diskName: 'a', phase: 'restoring', destroyedAtMs: NOW - WINDOW }],
      },
      [],
    ],
    [
      "a destroyed instance's disk that lost its label: its record still promises a restore, within its window",
      {
        ...empty,
        disks: [{ name: 'a', createdAtMs: OLD }],
        records: [{ name: 'a', diskName: 'a', phase: 'destroyed', destroyedAtMs: NOW - WINDOW + 1 }],
      },
      [],
    ],
    [
      "a destroyed instance's disk past its record's window",
      {
        ...empty,
        disks: [{ name: 'a', createdAtMs: OLD }],
        records: [{ name: 'a', diskName: 'a', phase: 'destroyed', destroyedAtMs: NOW - WINDOW }],
      },
      [{ kind: 'orphan-disk', name: 'a', createdAt: iso(OLD) }],
    ],
    [
      'an old slot of a record that holds none (queued: a claim that never moved its record on), and of one destroyed',
      {
        ...empty,
        slots: [
          { name: 'q', instance: 'a', createdAtMs: OLD },
          { name: 'd', instance: 'b', createdAtMs: OLD },
        ],
        records: [
          { name: 'a', diskName: 'a', phase: 'queued' },
          { name: 'b', diskName: 'b', phase: 'destroyed' },
        ],
      },
      [
        { kind: 'orphan-slot', name: 'q', instance: 'a' },
        { kind: 'orphan-slot', name: 'd', instance: 'b' },
      ],
    ],
    [
      'a disk kept for a restore, within its window',
      { ...empty, disks: [{ name: 'a', createdAtMs: OLD, destroyedAtMs: NOW - WINDOW + 1 }] },
      [],
    ],
    [
      'a disk kept for a restore, past its window',
      { ...empty, disks: [{ name: 'a', createdAtMs: OLD, destroyedAtMs: NOW - WINDOW }] },
      [{ kind: 'orphan-disk', name: 'a', createdAt: new Date(OLD).toISOString() }],
    ],
  ])('%s', (_label, snapshot, actions) => {
    expect(planSweep(snapshot, { nowMs: NOW, graceMs: GRACE, maxDestroys: 10, restoreWindowMs: WINDOW })).toEqual({
      actions,
      deferred: 0,
      scanned: { deployments: snapshot.deployments.length, disks: snapshot.disks.length, slots: snapshot.slots.length },
    });
  });

  it("deletes a slot of a live instance that its Deployment does not own, past the grace: a failed undo's, not the instance's own", () => {
    const plan = planSweep(
      {
        ...empty,
        deployments: [{ name: 'sb-1', createdAtMs: OLD, owner: 'ada@example.com', uid: 'uid-1', ownerHash: 'h' }],
        disks: [{ name: 'sb-1', createdAtMs: OLD }],
        slots: [
          { name: 'g-0', instance: 'sb-1', createdAtMs: OLD, ownerUids: ['uid-1'], kind: 'global' },
          { name: 'g-1', instance: 'sb-1', createdAtMs: OLD, ownerUids: [], kind: 'global' },
          { name: 'g-2', instance: 'sb-1', createdAtMs: YOUNG, ownerUids: [], kind: 'global' },
          // Its per-user slot, unbound by a destroy that failed half way: the only one of its kind, so it stays.
          { name: 'u-0', instance: 'sb-1', createdAtMs: OLD, ownerUids: [], kind: 'user', ownerHash: 'h' },
        ],
      },
      { nowMs: NOW, graceMs: GRACE, maxDestroys: 10, restoreWindowMs: WINDOW },
    );
    expect(plan.actions).toEqual([{ kind: 'orphan-slot', name: 'g-1', instance: 'sb-1', unboundFrom: 'uid-1' }]);
    const action = plan.actions[0]!;
    expect(stillAgrees(action, { deployment: { metadata: { uid: 'uid-1' } } }, { serverName: 'syncbased', nowMs: NOW })).toBe(true);
    // Destroyed and made again under the name since: the new Deployment's slots are not this action's to judge.
    expect(stillAgrees(action, { deployment: { metadata: { uid: 'uid-2' } } }, { serverName: 'syncbased', nowMs: NOW })).toBe(false);
  });

  it('bounds the destroys, expired first, and never the slot deletions', () => {
    const snapshot: SweepSnapshot = {
      ...empty,
      deployments: [
        { name: 'e1', createdAtMs: OLD, owner: 'o', expiresAt: PAST },
        { name: 'e2', createdAtMs: OLD, owner: 'o', expiresAt: PAST },
        { name: 'd1', createdAtMs: OLD, owner: 'o' },
      ],
      disks: [
        { name: 'e1', createdAtMs: OLD },
        { name: 'e2', createdAtMs: OLD },
        { name: 'k1', createdAtMs: OLD },
      ],
      slots: [
        { name: 's1', instance: 'x', createdAtMs: OLD },
        { name: 's2', instance: 'y', createdAtMs: OLD },
      ],
    };
    const plan = planSweep(snapshot, { nowMs: NOW, graceMs: GRACE, maxDestroys: 2, restoreWindowMs: WINDOW });
    expect(plan.actions.map((a) => `${a.kind}:${a.name}`)).toEqual(['expired:e1', 'expired:e2', 'orphan-slot:s1', 'orphan-slot:s2']);
    expect(plan.deferred).toBe(2);
  });
});

const deployment = (labels: Record<string, string>, expiresAt?: string): V1Deployment => ({
  metadata: { name: 'a', labels, annotations: expiresAt ? { 'allocator.dev/expires-at': expiresAt } : {} },
});
const ours = { 'allocator.dev/allocator': 'syncbased' };
const theirs = { 'allocator.dev/allocator': 'other' };

describe('stillAgrees', () => {
  const expired: SweepAction = { kind: 'expired', name: 'a', owner: 'o', expiresAt: PAST };
  const orphanDeployment: SweepAction = { kind: 'orphan-deployment', name: 'a', createdAt: iso(OLD) };
  const orphanDisk: SweepAction = { kind: 'orphan-disk', name: 'a', createdAt: iso(OLD) };
  const orphanSlot: SweepAction = { kind: 'orphan-slot', name: 's', instance: 'a' };
  const strayOwnerSlot: SweepAction = { kind: 'orphan-slot', name: 's', instance: 'a', ownerHash: 'old' };
  it.each<[string, SweepAction, Parameters<typeof stillAgrees>[1], boolean]>([
    ['expired, still expired', expired, { deployment: deployment(ours, PAST) }, true],
    ['expired, since extended', expired, { deployment: deployment(ours, FUTURE) }, false],
    ['expired, since made to never expire', expired, { deployment: deployment(ours) }, false],
    ['expired, since destroyed', expired, { deployment: undefined }, false],
    ['expired, relabelled to another allocator', expired, { deployment: deployment(theirs, PAST) }, false],
    ['orphan Deployment, disk still missing', orphanDeployment, { deployment: deployment(ours), diskExists: false }, true],
    ['orphan Deployment, disk made since', orphanDeployment, { deployment: deployment(ours), diskExists: true }, false],
    ['orphan Deployment, since destroyed', orphanDeployment, { deployment: undefined, diskExists: false }, false],
    ['orphan disk, Deployment still missing', orphanDisk, { deployment: undefined }, true],
    ['orphan disk, Deployment made since', orphanDisk, { deployment: deployment(ours) }, false],
    ['orphan slot, instance still missing', orphanSlot, { deployment: undefined }, true],
    ['orphan slot, instance made since', orphanSlot, { deployment: deployment(ours) }, false],
    [
      "old owner's slot, instance still another's",
      strayOwnerSlot,
      { deployment: deployment({ ...ours, 'allocator.dev/owner-hash': 'new' }) },
      true,
    ],
    [
      "old owner's slot, instance transferred back since",
      strayOwnerSlot,
      { deployment: deployment({ ...ours, 'allocator.dev/owner-hash': 'old' }) },
      false,
    ],
    ["old owner's slot, instance since destroyed", strayOwnerSlot, { deployment: undefined }, true],
  ])('%s: %s', (_label, action, reread, expected) => {
    expect(stillAgrees(action, reread, { serverName: 'syncbased', nowMs: NOW })).toBe(expected);
  });
});
