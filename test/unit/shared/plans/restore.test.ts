import { describe, expect, it } from 'vitest';
import { ANNOTATIONS, DISK_LABELS } from '../../../../shared/instances/metadata.ts';
import { sharedLabelKey } from '../../../../shared/instances/sharing.ts';
import { buildInstanceDeployment } from '../../../../shared/plans/deployment.ts';
import {
  destroyedInstanceOf,
  diskDestroyedAt,
  isRestorable,
  keptDiskLabels,
  restoredDiskLabels,
  restoreRecord,
} from '../../../../shared/plans/restore-record.ts';
import { planRestore } from '../../../../shared/plans/restore.ts';
import { caller, config, countingRandom, template } from '../../fakes/world.ts';

const NAME = 'syncbased-1a2b3c4d';
const CREATED = Date.parse('2026-11-20T09:00:00.000Z');
const DESTROYED = Date.parse('2026-11-25T12:00:00.000Z');
const WINDOW = 86_400_000;

/** An instance as create made it, shared with bob and given an annotation of a later version. */
function deployment(mountRoot = config.mountRoot) {
  const made = buildInstanceDeployment(template, {
    serverName: 'syncbased',
    name: NAME,
    diskZone: config.compute.zone,
    ownerEmail: 'ada@example.com',
    ownerSubject: '1',
    admins: config.admins,
    accessListFormat: '{email}',
    mountRoot,
    version: 'v0',
    createdAt: new Date(CREATED).toISOString(),
    idempotencyKeyHash: 'abc',
    expiresAt: new Date(CREATED + 3_600_000).toISOString(),
  });
  made.metadata!.uid = 'uid-1';
  made.metadata!.annotations![ANNOTATIONS.collaborators] = '["bob@example.com"]';
  made.metadata!.labels![sharedLabelKey('bob@example.com')] = 'true';
  made.metadata!.annotations!['allocator.dev/future-field'] = 'kept';
  made.metadata!.annotations!['kubectl.kubernetes.io/last-applied-configuration'] = '{}';
  return made;
}

describe('restoreRecord', () => {
  it("keeps the Deployment's own annotations but those of one life, and the labels that select it", () => {
    const record = restoreRecord(deployment(), { serverName: 'syncbased', nowMs: DESTROYED });
    const annotations = deployment().metadata?.annotations ?? {};
    expect(record).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: `${NAME}-restore`,
        labels: {
          'allocator.dev/allocator': 'syncbased',
          'allocator.dev/owner-hash': deployment().metadata?.labels?.['allocator.dev/owner-hash'],
          'allocator.dev/instance': NAME,
          'allocator.dev/restore-record': 'true',
        },
        annotations: {
          [ANNOTATIONS.owner]: 'ada@example.com',
          [ANNOTATIONS.ownerSubject]: '1',
          [ANNOTATIONS.mountName]: `/ns/allocated/${NAME}`,
          [ANNOTATIONS.accessList]: annotations[ANNOTATIONS.accessList],
          [ANNOTATIONS.version]: 'v0',
          [ANNOTATIONS.disk]: NAME,
          [ANNOTATIONS.createdAt]: new Date(CREATED).toISOString(),
          [ANNOTATIONS.replicas]: '1',
          [ANNOTATIONS.collaborators]: '["bob@example.com"]',
          'allocator.dev/future-field': 'kept',
          [ANNOTATIONS.destroyedAt]: new Date(DESTROYED).toISOString(),
        },
      },
      spec: {},
    });
  });

  it('is restorable until the window ends, and listed with when that is', () => {
    const record = restoreRecord(deployment(), { serverName: 'syncbased', nowMs: DESTROYED });
    expect(isRestorable(record, DESTROYED + WINDOW - 1, WINDOW)).toBe(true);
    expect(isRestorable(record, DESTROYED + WINDOW, WINDOW)).toBe(false);
    expect(isRestorable(record, DESTROYED, 0)).toBe(false);
    expect(destroyedInstanceOf(record, WINDOW)).toEqual({
      name: NAME,
      owner: 'ada@example.com',
      mountName: `/ns/allocated/${NAME}`,
      destroyedAt: new Date(DESTROYED).toISOString(),
      restorableUntil: new Date(DESTROYED + WINDOW).toISOString(),
    });
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

describe('planRestore', () => {
  it("renders the instance again with today's template and settings, its owner and mount name, a fresh lifetime, and what the record keeps", () => {
    const record = restoreRecord(deployment('/old/root'), { serverName: 'syncbased', nowMs: DESTROYED });
    const now = DESTROYED + 3_600_000;
    const plan = planRestore({
      config,
      template,
      record,
      caller: caller('root@example.com'),
      request: { name: NAME, wait: true, waitMs: 60_000 },
      nowMs: now,
      random: countingRandom(),
    });
    // Written out rather than built with buildInstanceDeployment, which planRestore itself calls.
    const accessList = '{"In":["ada@example.com","bob@example.com","root@example.com"]}';
    const mountName = `/old/root/${NAME}`;
    const ownerHash = '3ca93ad87e0bb737e653b66ad67731e86bbc050f'; // ada@example.com's
    expect(plan.deployment).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: NAME,
        annotations: {
          'allocator.dev/owner': 'ada@example.com',
          'allocator.dev/owner-sub': '1',
          'allocator.dev/mount-name': mountName,
          'allocator.dev/access-list': accessList,
          'allocator.dev/version': 'v1',
          'allocator.dev/disk': NAME,
          'allocator.dev/created-at': '2026-11-25T13:00:00.000Z',
          'allocator.dev/expires-at': '2026-11-25T14:00:00.000Z',
          'allocator.dev/replicas': '1',
          'allocator.dev/collaborators': '["bob@example.com"]',
          'allocator.dev/future-field': 'kept',
          'v.io/creator-info': JSON.stringify({
            email: 'ada@example.com',
            mountName,
            createdAt: '2026-11-25T13:00:00.000Z',
            allocator: 'syncbased',
          }),
        },
        labels: {
          ownerHash,
          'allocator.dev/allocator': 'syncbased',
          'allocator.dev/owner-hash': ownerHash,
          'allocator.dev/instance': NAME,
          'allocator.dev/shared-a460e37bf4d8e893f8fd39536997d5da8d21eebe': 'true', // bob@example.com's
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
                command: ['syncbased', `--name=${mountName}`, '--root-dir=/data/root', `--v23.permissions.literal={"Admin":${accessList}}`],
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
    });
    expect(plan.instance.accessList.In).toEqual(['ada@example.com', 'bob@example.com', 'root@example.com']);
    expect(plan.deployment.metadata?.annotations?.[ANNOTATIONS.idempotencyKey]).toBeUndefined();
    expect(plan.instance).toMatchObject({ name: NAME, owner: 'ada@example.com', mountName: `/old/root/${NAME}`, version: 'v1' });
    expect(plan.slots.user.labels['allocator.dev/owner-hash']).toBe(deployment().metadata?.labels?.['allocator.dev/owner-hash']);
  });

  it("takes the owner's account id from the owner when the record has none, and leaves it out for an admin", () => {
    const old = deployment();
    delete old.metadata!.annotations![ANNOTATIONS.ownerSubject];
    const record = restoreRecord(old, { serverName: 'syncbased', nowMs: DESTROYED });
    const plan = (email: string) =>
      planRestore({
        config,
        template,
        record,
        caller: { email, subject: '77', kind: 'user' },
        request: { name: NAME, wait: false, waitMs: 1 },
        nowMs: DESTROYED,
        random: countingRandom(),
      }).deployment.metadata?.annotations?.[ANNOTATIONS.ownerSubject];
    expect(plan('ada@example.com')).toBe('77');
    expect(plan('root@example.com')).toBeUndefined();
  });
});
