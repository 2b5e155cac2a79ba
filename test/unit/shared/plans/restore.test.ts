import type { V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { DISK_LABELS } from '../../../../shared/instances/metadata.ts';
import type { InstanceRecord } from '../../../../shared/model/record.ts';
import type { CreateConfig } from '../../../../shared/plans/create-plan.ts';
import {
  destroyedInstanceOf,
  diskDestroyedAt,
  isRestorable,
  keptDiskLabels,
  keptToDrop,
  recordFromLegacyRestoreLease,
  restoredDiskLabels,
} from '../../../../shared/plans/restore-record.ts';
import { planRestore } from '../../../../shared/plans/restore.ts';
import { caller, config, countingRandom, template } from '../../fakes/world.ts';

const NAME = 'syncbased-1a2b3c4d';
const DESTROYED = Date.parse('2026-11-25T12:00:00.000Z');
const WINDOW = 86_400_000;
const ADA_HASH = '3ca93ad87e0bb737e653b66ad67731e86bbc050f'; // sha1 of ada@example.com
const BOB_LABEL = 'allocator.dev/shared-a460e37bf4d8e893f8fd39536997d5da8d21eebe'; // bob@example.com's

/** A destroyed instance's record, written out as the API server would answer it: made under an older mount root and version. */
function record(spec: Partial<InstanceRecord['spec']> = {}, status: InstanceRecord['status'] = destroyedStatus()): InstanceRecord {
  return {
    apiVersion: 'allocator.dev/v1',
    kind: 'Instance',
    metadata: {
      name: NAME,
      uid: 'uid-1',
      resourceVersion: '7',
      creationTimestamp: '2026-11-20T09:00:00.000Z',
      labels: { 'allocator.dev/allocator': 'syncbased', 'allocator.dev/owner-hash': ADA_HASH, 'allocator.dev/instance': NAME },
    },
    spec: {
      owner: { email: 'ada@example.com', subject: '1' },
      collaborators: [],
      parameters: { size: 'large' },
      mountName: `/old/root/${NAME}`,
      version: 'v0',
      createdAt: '2026-11-20T09:00:00.000Z',
      expiresAt: '2026-11-20T10:00:00.000Z',
      keyHash: 'abc',
      replicas: 1,
      disk: { name: NAME, zone: 'us-central1-c' },
      ...spec,
    },
    status,
  };
}

function destroyedStatus(at = DESTROYED): InstanceRecord['status'] {
  return { phase: 'destroyed', destroyedAt: new Date(at).toISOString() };
}

/** The test config, with two declared parameters: `tier` declared since the instance was made. */
const withParameters: CreateConfig = {
  ...config,
  parameters: [
    { name: 'size', description: 'how big', default: 'small', enum: ['small', 'large'] },
    { name: 'tier', description: 'which tier', default: 'gold', enum: ['gold', 'silver'] },
  ],
};

describe('a destroyed record', () => {
  it('is restorable until the window ends, and listed with when that is', () => {
    expect(isRestorable(record(), DESTROYED + WINDOW - 1, WINDOW)).toBe(true);
    expect(isRestorable(record(), DESTROYED + WINDOW, WINDOW)).toBe(false);
    expect(isRestorable(record(), DESTROYED, 0)).toBe(false);
    expect(destroyedInstanceOf(record(), WINDOW)).toEqual({
      name: NAME,
      owner: 'ada@example.com',
      mountName: `/old/root/${NAME}`,
      destroyedAt: '2026-11-25T12:00:00.000Z',
      restorableUntil: '2026-11-26T12:00:00.000Z',
    });
  });

  it.each<[string, InstanceRecord['status']]>([
    ['running', { phase: 'running' }],
    ['destroyed without a time', { phase: 'destroyed' }],
  ])('is never restorable when %s', (_label, status) => {
    expect(isRestorable(record({}, status), DESTROYED + 1, WINDOW)).toBe(false);
  });

  it("drops an owner's oldest kept instances first, down to the limit", () => {
    const kept = [3, 1, 2].map((i) => ({
      ...record({}, destroyedStatus(DESTROYED + i * 1000)),
      metadata: { ...record().metadata, name: `kept-${i}` },
    }));
    expect(keptToDrop(kept, 0).map((r) => r.metadata.name)).toEqual(['kept-1', 'kept-2', 'kept-3']);
    expect(keptToDrop(kept, 1).map((r) => r.metadata.name)).toEqual(['kept-1', 'kept-2']);
    expect(keptToDrop(kept, 3)).toEqual([]);
  });
});

describe('the restore Lease of a release before records', () => {
  it('becomes a destroyed record with what the Lease kept', () => {
    const lease: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: `${NAME}-restore`,
        labels: {
          'allocator.dev/allocator': 'syncbased',
          'allocator.dev/owner-hash': ADA_HASH,
          'allocator.dev/instance': NAME,
          'allocator.dev/restore-record': 'true',
        },
        annotations: {
          'allocator.dev/owner': 'ada@example.com',
          'allocator.dev/owner-sub': '1',
          'allocator.dev/creator': 'cy@example.com',
          'allocator.dev/mount-name': `/old/root/${NAME}`,
          'allocator.dev/access-list': '{"In":["ada@example.com","bob@example.com","root@example.com"]}',
          'allocator.dev/version': 'v0',
          'allocator.dev/disk': NAME,
          'allocator.dev/created-at': '2026-11-20T09:00:00.000Z',
          'allocator.dev/replicas': '1',
          'allocator.dev/collaborators': '["bob@example.com"]',
          'allocator.dev/parameters': '{"size":"large"}',
          'allocator.dev/destroyed-at': '2026-11-25T12:00:00.000Z',
        },
      },
      spec: {},
    };
    expect(recordFromLegacyRestoreLease(lease, 'syncbased')).toEqual({
      apiVersion: 'allocator.dev/v1',
      kind: 'Instance',
      metadata: {
        name: NAME,
        labels: { 'allocator.dev/allocator': 'syncbased', 'allocator.dev/owner-hash': ADA_HASH, 'allocator.dev/instance': NAME },
      },
      spec: {
        owner: { email: 'ada@example.com', subject: '1' },
        creator: 'cy@example.com',
        collaborators: ['bob@example.com'],
        parameters: { size: 'large' },
        mountName: `/old/root/${NAME}`,
        version: 'v0',
        createdAt: '2026-11-20T09:00:00.000Z',
        disk: { name: NAME, zone: '' },
      },
      status: { phase: 'destroyed', destroyedAt: '2026-11-25T12:00:00.000Z' },
    });
    const { [`allocator.dev/destroyed-at`]: _at, ...undated } = lease.metadata!.annotations!;
    expect(recordFromLegacyRestoreLease({ ...lease, metadata: { ...lease.metadata, annotations: undated } }, 'syncbased')).toBeUndefined();
  });
});

describe('the disk labels of a destroy and a restore', () => {
  it.each([
    [{ allocator: 'syncbased' }, DESTROYED, { allocator: 'syncbased', [DISK_LABELS.destroyedAt]: String(DESTROYED / 1000) }],
    [{ allocator: 'syncbased' }, DESTROYED + 999, { allocator: 'syncbased', [DISK_LABELS.destroyedAt]: String(DESTROYED / 1000) }],
  ])('%o destroyed at %i: %o, read back in whole seconds and cleared by a restore', (labels, at, kept) => {
    expect(keptDiskLabels(labels, at)).toEqual(kept);
    expect(diskDestroyedAt(kept)).toBe(DESTROYED);
    expect(restoredDiskLabels(kept)).toEqual(labels);
  });

  it.each<Record<string, string>>([{}, { [DISK_LABELS.destroyedAt]: 'soon' }, { [DISK_LABELS.destroyedAt]: '' }])(
    '%o is not a kept disk',
    (labels) => {
      expect(diskDestroyedAt(labels)).toBeUndefined();
    },
  );
});

/** The Deployment a restore of NAME an hour after its destroy makes, written out: access list, creator, annotations and labels vary. */
function expectedDeployment(input: {
  accessList: string;
  creator: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}) {
  const mountName = `/old/root/${NAME}`;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: NAME,
      annotations: {
        'v.io/creator-info': JSON.stringify({
          email: input.creator,
          mountName,
          createdAt: '2026-11-25T13:00:00.000Z',
          allocator: 'syncbased',
        }),
        'allocator.dev/owner': 'ada@example.com',
        'allocator.dev/owner-sub': '1',
        'allocator.dev/mount-name': mountName,
        'allocator.dev/access-list': input.accessList,
        'allocator.dev/version': 'v1',
        'allocator.dev/disk': NAME,
        'allocator.dev/created-at': '2026-11-25T13:00:00.000Z',
        'allocator.dev/expires-at': '2026-11-25T14:00:00.000Z',
        'allocator.dev/replicas': '1',
        'allocator.dev/parameters': '{"size":"large","tier":"gold"}',
        ...input.annotations,
      },
      labels: {
        ownerHash: ADA_HASH,
        'allocator.dev/allocator': 'syncbased',
        'allocator.dev/owner-hash': ADA_HASH,
        'allocator.dev/instance': NAME,
        ...input.labels,
      },
    },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { application: NAME } },
      template: {
        metadata: { labels: { application: NAME, 'allocator.dev/allocator': 'syncbased', 'allocator.dev/instance': NAME } },
        spec: {
          containers: [
            {
              name: 'syncbased',
              image: 'us-docker.pkg.dev/YOUR-PROJECT/YOUR-REPOSITORY/syncbased:v1',
              command: [
                'syncbased',
                `--name=${mountName}`,
                '--root-dir=/data/root',
                `--v23.permissions.literal={"Admin":${input.accessList}}`,
              ],
              volumeMounts: [{ name: 'data-disk', mountPath: '/data' }],
            },
          ],
          volumes: [{ name: 'data-disk', gcePersistentDisk: { pdName: NAME, fsType: 'ext4' } }],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-central1-c'] }] },
                ],
              },
            },
          },
          automountServiceAccountToken: false,
        },
      },
    },
  };
}

const plan = (from: InstanceRecord, who = caller('root@example.com')) =>
  planRestore({
    config: withParameters,
    template,
    record: from,
    caller: who,
    request: { name: NAME, wait: true, waitMs: 60_000 },
    nowMs: DESTROYED + 3_600_000,
    random: countingRandom(),
  });

describe('planRestore', () => {
  it("renders the instance again from its record with today's template and settings: its owner, account id, mount name and parameters, and a fresh lifetime", () => {
    const restored = plan(record());
    // Written out rather than built with buildInstanceDeployment, which planRestore itself calls.
    expect(restored.deployment).toEqual(
      expectedDeployment({ accessList: '{"In":["ada@example.com","root@example.com"]}', creator: 'ada@example.com' }),
    );
    expect(restored.name).toBe(NAME);
    expect(restored.createdAt).toBe('2026-11-25T13:00:00.000Z');
    expect({ wait: restored.wait, waitMs: restored.waitMs }).toEqual({ wait: true, waitMs: 60_000 });
    expect(restored.instance).toEqual({
      name: NAME,
      owner: 'ada@example.com',
      mountName: `/old/root/${NAME}`,
      accessList: { In: ['ada@example.com', 'root@example.com'] },
      creationTime: '2026-11-25T13:00:00.000Z',
      replicas: 1,
      readyReplicas: 0,
      version: 'v1',
      disk: NAME,
      expiresAt: '2026-11-25T14:00:00.000Z',
      parameters: { size: 'large', tier: 'gold' },
      state: 'starting',
      problems: [],
      collaborators: [],
    });
  });

  it('claims slots for its owner, not for the admin who restores it', () => {
    const { user, global } = plan(record()).slots;
    const labels = (kind: string) => ({
      'allocator.dev/allocator': 'syncbased',
      'allocator.dev/slot': kind,
      'allocator.dev/owner-hash': ADA_HASH,
      'allocator.dev/instance': NAME,
    });
    expect({ ...user, holder: undefined, start: undefined }).toEqual({
      kind: 'user',
      prefix: `syncbased-u-${ADA_HASH}-`,
      size: 1,
      selector: `allocator.dev/allocator=syncbased,allocator.dev/slot=user,allocator.dev/owner-hash=${ADA_HASH}`,
      labels: labels('user'),
      holder: undefined,
      exhausted: 'you already have 1 instance, the most allowed per user; destroy one first',
      start: undefined,
    });
    expect(global.labels).toEqual(labels('global'));
    expect(user.holder).toMatch(new RegExp(`^${NAME}/[0-9a-f]{8}$`));
  });

  it('keeps its creator, its collaborators and the labels that list it for them', () => {
    const restored = plan(record({ creator: 'cy@example.com', collaborators: ['bob@example.com'] }));
    const accessList = '{"In":["ada@example.com","bob@example.com","root@example.com"]}';
    expect(restored.deployment).toEqual(
      expectedDeployment({
        accessList,
        creator: 'cy@example.com',
        // As a share writes them: what list, share, unshare and transfer read back from the Deployment. The creator is the record's.
        annotations: { 'allocator.dev/collaborators': '["bob@example.com"]' },
        labels: { [BOB_LABEL]: 'true' },
      }),
    );
    expect(restored.instance.collaborators).toEqual(['bob@example.com']);
  });

  it("takes the owner's account id from the owner when the record has none, and leaves it out for an admin", () => {
    const unpinned = record({ owner: { email: 'ada@example.com' } });
    const subjectFor = (email: string) =>
      plan(unpinned, { email, subject: '77', kind: 'user' }).deployment.metadata?.annotations?.['allocator.dev/owner-sub'];
    expect(subjectFor('ada@example.com')).toBe('77');
    expect(subjectFor('root@example.com')).toBeUndefined();
  });
});
