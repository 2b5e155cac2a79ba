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
    const expected = buildInstanceDeployment(template, {
      serverName: 'syncbased',
      name: NAME,
      diskZone: config.compute.zone,
      ownerEmail: 'ada@example.com',
      ownerSubject: '1',
      admins: config.admins,
      accessListFormat: config.accessListFormat,
      mountRoot: config.mountRoot,
      mountName: `/old/root/${NAME}`,
      collaborators: ['bob@example.com'],
      version: config.version,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + config.lifetime.defaultSeconds * 1000).toISOString(),
    });
    expect(plan.deployment).toEqual({
      ...expected,
      metadata: {
        ...expected.metadata,
        labels: { ...expected.metadata?.labels, [sharedLabelKey('bob@example.com')]: 'true' },
        annotations: {
          [ANNOTATIONS.collaborators]: '["bob@example.com"]',
          'allocator.dev/future-field': 'kept',
          ...expected.metadata?.annotations,
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
