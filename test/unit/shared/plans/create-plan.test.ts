import { describe, expect, it } from 'vitest';
import { ownerHashOf } from '../../../../shared/instances/naming.ts';
import { planCreate } from '../../../../shared/plans/create-plan.ts';
import { caller, config, countingRandom, template } from '../../fakes/world.ts';

const NOW = Date.parse('2026-11-25T12:00:00.000Z');
const ADA = ownerHashOf('ada@example.com');

/** The whole manifest a create of syncbased-01010101 by ada sends, lifetime one hour. */
const manifest = (name: string, extraAnnotations: Record<string, string> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name,
    annotations: {
      'v.io/creator-info': JSON.stringify({
        email: 'ada@example.com',
        mountName: `/ns/allocated/${name}`,
        createdAt: '2026-11-25T12:00:00.000Z',
        allocator: 'syncbased',
      }),
      'allocator.dev/owner': 'ada@example.com',
      'allocator.dev/owner-sub': '1',
      'allocator.dev/mount-name': `/ns/allocated/${name}`,
      'allocator.dev/access-list': '{"In":["ada@example.com","root@example.com"]}',
      'allocator.dev/version': 'v1',
      'allocator.dev/disk': name,
      'allocator.dev/created-at': '2026-11-25T12:00:00.000Z',
      'allocator.dev/replicas': '1',
      'allocator.dev/expires-at': '2026-11-25T13:00:00.000Z',
      ...extraAnnotations,
    },
    labels: { ownerHash: ADA, 'allocator.dev/allocator': 'syncbased', 'allocator.dev/owner-hash': ADA, 'allocator.dev/instance': name },
  },
  spec: {
    replicas: 1,
    strategy: { type: 'Recreate' },
    selector: { matchLabels: { application: name } },
    template: {
      metadata: { labels: { application: name, 'allocator.dev/allocator': 'syncbased', 'allocator.dev/instance': name } },
      spec: {
        containers: [
          {
            name: 'syncbased',
            image: 'us-docker.pkg.dev/YOUR-PROJECT/YOUR-REPOSITORY/syncbased:v1',
            command: [
              'syncbased',
              `--name=/ns/allocated/${name}`,
              '--root-dir=/data/root',
              '--v23.permissions.literal={"Admin":{"In":["ada@example.com","root@example.com"]}}',
            ],
            volumeMounts: [{ name: 'data-disk', mountPath: '/data' }],
          },
        ],
        volumes: [{ name: 'data-disk', gcePersistentDisk: { pdName: name, fsType: 'ext4' } }],
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

const slots = (name: string, holder: string, globalStart: number) => {
  const labels = (kind: string) => ({
    'allocator.dev/allocator': 'syncbased',
    'allocator.dev/slot': kind,
    'allocator.dev/owner-hash': ADA,
    'allocator.dev/instance': name,
  });
  return {
    user: {
      kind: 'user',
      prefix: `syncbased-u-${ADA}-`,
      size: 1,
      selector: `allocator.dev/allocator=syncbased,allocator.dev/slot=user,allocator.dev/owner-hash=${ADA}`,
      labels: labels('user'),
      holder,
      exhausted: 'you already have 1 instance, the most allowed per user; destroy one first',
      start: 0,
    },
    global: {
      kind: 'global',
      prefix: 'syncbased-g-',
      size: 3,
      selector: 'allocator.dev/allocator=syncbased,allocator.dev/slot=global',
      labels: labels('global'),
      holder,
      exhausted: 'the allocator already runs 3 instances, its limit; try again later',
      start: globalStart,
    },
  };
};

const instance = (name: string) => ({
  name,
  owner: 'ada@example.com',
  mountName: `/ns/allocated/${name}`,
  accessList: { In: ['ada@example.com', 'root@example.com'] },
  creationTime: '2026-11-25T12:00:00.000Z',
  replicas: 1,
  readyReplicas: 0,
  version: 'v1',
  disk: name,
  expiresAt: '2026-11-25T13:00:00.000Z',
  parameters: {},
  state: 'starting',
  problems: [],
  collaborators: [],
});

describe('planCreate', () => {
  it('plans a create without a key: a random name, and the whole manifest, disk, slots and instance', () => {
    const plan = planCreate({
      config,
      template,
      caller: caller(),
      request: { wait: true, waitMs: 60_000 },
      nowMs: NOW,
      random: countingRandom(),
    });
    expect(plan).toEqual({
      name: 'syncbased-01010101',
      parameters: {},
      createdAt: '2026-11-25T12:00:00.000Z',
      slots: slots('syncbased-01010101', 'syncbased-01010101/02020202', 0x03030303 % 3),
      disk: {
        name: 'syncbased-01010101',
        sizeGb: 10,
        type: 'pd-standard',
        labels: { allocator: 'syncbased', 'allocator-owner-hash': ADA, 'allocator-instance': 'syncbased-01010101' },
      },
      deployment: manifest('syncbased-01010101'),
      objects: [],
      instance: instance('syncbased-01010101'),
      wait: true,
      waitMs: 60_000,
    });
  });

  it("plans a create with a key: the name and the key's hash follow from caller and key", () => {
    const plan = planCreate({
      config,
      template,
      caller: caller(),
      request: { wait: false, idempotencyKey: 'k1', waitMs: 5_000, lifetimeSeconds: 3600 },
      nowMs: NOW,
      random: countingRandom(),
    });
    const name = plan.name;
    expect(name).toMatch(/^syncbased-[0-9a-f]{8}$/);
    expect(plan).toEqual({
      name,
      idempotencyKeyHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      parameters: {},
      createdAt: '2026-11-25T12:00:00.000Z',
      slots: slots(name, `${name}/01010101`, 0x02020202 % 3),
      disk: {
        name,
        sizeGb: 10,
        type: 'pd-standard',
        labels: { allocator: 'syncbased', 'allocator-owner-hash': ADA, 'allocator-instance': name },
      },
      deployment: manifest(name, { 'allocator.dev/idempotency-key-hash': plan.idempotencyKeyHash! }),
      objects: [],
      instance: instance(name),
      wait: false,
      waitMs: 5_000,
    });
    expect(
      planCreate({
        config,
        template,
        caller: caller(),
        request: { wait: true, waitMs: 60_000, idempotencyKey: 'k1' },
        nowMs: NOW + 1,
        random: countingRandom(),
      }).name,
    ).toBe(name);
    expect(
      planCreate({
        config,
        template,
        caller: caller('bob@example.com'),
        request: { wait: true, waitMs: 60_000, idempotencyKey: 'k1' },
        nowMs: NOW,
        random: countingRandom(),
      }).name,
    ).not.toBe(name);
  });

  it.each([[{ wait: true, waitMs: 60_000, lifetimeSeconds: 0 }, 'expiresAt', undefined]] as const)(
    'bounds %j',
    (request, field, expected) => {
      const plan = planCreate({
        config: { ...config, lifetime: { defaultSeconds: 0, maxSeconds: 0 } },
        template,
        caller: caller(),
        request,
        nowMs: NOW,
        random: countingRandom(),
      });
      expect(field).toBe('expiresAt');
      expect(expected).toBeUndefined();
      expect(plan.deployment.metadata?.annotations).not.toHaveProperty('allocator.dev/expires-at');
    },
  );

  it.each([[{ snapshot: 'global/snapshots/golden' }], [{ image: 'projects/p/global/images/family/golden' }]])(
    'makes the disk from the configured source %j',
    (source) => {
      const plan = planCreate({
        config: { ...config, disk: { ...config.disk, source } },
        template,
        caller: caller(),
        request: { wait: true, waitMs: 60_000 },
        nowMs: NOW,
        random: countingRandom(),
      });
      expect(plan.disk).toEqual({
        name: 'syncbased-01010101',
        sizeGb: 10,
        type: 'pd-standard',
        labels: { allocator: 'syncbased', 'allocator-owner-hash': ADA, 'allocator-instance': 'syncbased-01010101' },
        source,
      });
      expect(plan.disk.source).not.toBe(source);
    },
  );

  it.each([
    [{ queue: false }, undefined],
    [{ queue: true }, { ...config.queue }],
    [
      { queue: true, queueTimeoutSeconds: 90 },
      { ...config.queue, timeoutMs: 90_000 },
    ],
    [{ queueTimeoutSeconds: 90 }, undefined],
  ])("plans a queued create's wait in line from the settings and the caller's timeout: %j", (asked, queue) => {
    const plan = planCreate({
      config,
      template,
      caller: caller(),
      request: { wait: true, waitMs: 60_000, idempotencyKey: 'k1', ...asked },
      nowMs: NOW,
      random: countingRandom(),
    });
    expect(plan.queue).toEqual(queue);
  });

  it('refuses a lifetime over the maximum before anything is made', () => {
    expect(() =>
      planCreate({
        config,
        template,
        caller: caller(),
        request: { wait: true, waitMs: 60_000, lifetimeSeconds: 86_401 },
        nowMs: NOW,
        random: countingRandom(),
      }),
    ).toThrow(expect.objectContaining({ status: 400 }));
  });
});
