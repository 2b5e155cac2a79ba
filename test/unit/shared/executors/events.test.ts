import type { CoreV1Event } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { CallerIdentity } from '../../../../shared/auth/identity.ts';
import { NotFoundError, PermissionDeniedError } from '../../../../shared/errors.ts';
import { destroyInstance } from '../../../../shared/executors/destroy.ts';
import { readEvents } from '../../../../shared/executors/events.ts';
import { shareInstance } from '../../../../shared/executors/share.ts';
import { LABELS } from '../../../../shared/instances/metadata.ts';
import { accessAs, instanceOwnedBy } from '../../fakes/access.ts';
import { caller, config, world } from '../../fakes/world.ts';

type World = ReturnType<typeof world>;

const ADA = caller('ada@example.com');
const BEA = caller('bea@example.com');
const EVE = caller('eve@example.com');
const ROOT = caller('root@example.com');

const labelsOf = (instance: string) => ({ [LABELS.allocator]: config.serverName, [LABELS.instance]: instance });

/** Instance `name`'s ReplicaSet, pod and Service as the controllers would have made them, each with one event; and a look-alike's. */
async function withObjects(w: World, name: string): Promise<void> {
  const deploymentUid = w.cluster.deployments.get(name)?.metadata?.uid ?? '';
  w.cluster.replicaSets = [{ metadata: { name: `${name}-5d8f7c9b6`, uid: 'rs-uid', labels: labelsOf(name) } }];
  w.cluster.pods = [
    { metadata: { name: `${name}-5d8f7c9b6-x7k2p`, uid: 'pod-uid', labels: labelsOf(name) } },
    { metadata: { name: 'syncbased-99999999-5d8f7c9b6-x7k2p', uid: 'other-pod-uid', labels: labelsOf('syncbased-99999999') } },
  ];
  await w.objects.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: `${name}-db`, labels: labelsOf(name) }, spec: {} });
  const event = (
    object: { uid: string; kind: string; name: string },
    reason: string,
    message: string,
    at: string,
    type = 'Normal',
  ): CoreV1Event => ({
    metadata: { name: `${object.name}.${reason}` },
    involvedObject: object,
    reason,
    message,
    type,
    count: 1,
    lastTimestamp: new Date(at),
  });
  const serviceUid = 'service-uid';
  // The fake objects client keeps no uid: give the Service one as the API server would.
  w.objects.objects.get(`Service/${name}-db`)!.metadata.uid = serviceUid;
  w.cluster.events = [
    event(
      { uid: deploymentUid, kind: 'Deployment', name },
      'ScalingReplicaSet',
      `Scaled up replica set ${name}-5d8f7c9b6 from 0 to 1`,
      '2026-01-02T15:04:01Z',
    ),
    event(
      { uid: 'rs-uid', kind: 'ReplicaSet', name: `${name}-5d8f7c9b6` },
      'SuccessfulCreate',
      `Created pod: ${name}-5d8f7c9b6-x7k2p`,
      '2026-01-02T15:04:02Z',
    ),
    event(
      { uid: 'pod-uid', kind: 'Pod', name: `${name}-5d8f7c9b6-x7k2p` },
      'BackOff',
      'Back-off restarting failed container syncbased in pod p',
      '2026-01-02T15:04:04Z',
      'Warning',
    ),
    event(
      { uid: serviceUid, kind: 'Service', name: `${name}-db` },
      'EnsuringLoadBalancer',
      'Ensuring load balancer',
      '2026-01-02T15:04:03Z',
    ),
    event(
      { uid: 'other-pod-uid', kind: 'Pod', name: 'syncbased-99999999-5d8f7c9b6-x7k2p' },
      'Started',
      'Started container syncbased',
      '2026-01-02T15:04:00Z',
    ),
  ];
}

const as = (w: World, who: CallerIdentity) => ({ ...w.context, caller: who });

describe('readEvents', () => {
  it("gives the owner its Deployment's, ReplicaSets', pods' and Services' events in plain words, and no other object's", async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    await withObjects(w, name);
    expect(await readEvents(as(w, ADA), { name })).toEqual([
      {
        time: '2026-01-02T15:04:01.000Z',
        about: 'instance',
        warning: false,
        count: 1,
        reason: 'ScalingReplicaSet',
        message: 'Scaled up to 1 pod',
      },
      {
        time: '2026-01-02T15:04:02.000Z',
        about: 'instance',
        warning: false,
        count: 1,
        reason: 'SuccessfulCreate',
        message: 'Made a new pod',
      },
      {
        time: '2026-01-02T15:04:03.000Z',
        about: 'service',
        service: `${name}-db`,
        warning: false,
        count: 1,
        reason: 'EnsuringLoadBalancer',
        message: 'Setting up its load balancer',
      },
      {
        time: '2026-01-02T15:04:04.000Z',
        about: 'pod',
        warning: true,
        count: 1,
        reason: 'BackOff',
        message: 'Its container syncbased keeps crashing; waiting before starting it again',
      },
    ]);
  });

  it('lets collaborators and admins read; a stranger, and anyone once it is destroyed, get the 404 of an instance that does not exist', async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    await withObjects(w, name);
    await shareInstance(accessAs(w, ADA), { name, emails: ['bea@example.com'] });
    expect(await readEvents(as(w, BEA), { name })).toHaveLength(4);
    expect(await readEvents(as(w, ROOT), { name })).toHaveLength(4);
    await expect(readEvents(as(w, EVE), { name })).rejects.toThrow(new NotFoundError(`instance ${name} not found`));
    await expect(readEvents(as(w, ADA), { name: 'syncbased-00000000' })).rejects.toThrow('instance syncbased-00000000 not found');
    // Kept for a restore: its record stays, with nothing left to read.
    expect(await destroyInstance({ ...as(w, ADA), restoreWindowMs: 3_600_000 }, { name })).toMatchObject({
      restorableUntil: expect.any(String),
    });
    expect(w.cluster.records.has(name)).toBe(true);
    await expect(readEvents(as(w, ADA), { name })).rejects.toThrow(new NotFoundError(`instance ${name} not found`));
  });

  it("asks an admin with gcloud's token to sign in, as every admin action on others' instances does", async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    const read = readEvents(as(w, { ...ROOT, sharedAudience: true }), { name });
    await expect(read).rejects.toThrow(PermissionDeniedError);
    await expect(readEvents(as(w, { ...ROOT, sharedAudience: true }), { name })).rejects.toThrow(
      "to read other people's instances' events, sign in",
    );
  });
});
