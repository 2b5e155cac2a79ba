import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterEvent } from '../../../shared/api-types.ts';
import { LABELS } from '../../../shared/instances/metadata.ts';
import { ADMIN, call, startTestStack, type FunctionUrls, type TestStack } from '../stack.ts';
import { eventually } from '../support.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/templates/${name}`, import.meta.url));

let stack: TestStack;
const OWNER = 'eda@example.com';

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'events', overrides: { ALLOCATOR_MAX_INSTANCES_PER_USER: '5' } });
});
afterAll(async () => stack?.stop());

type Events = { events: ClusterEvent[]; error?: { code: number; status: string; message: string } };

async function eventsOf(name: string, who: string, urls: FunctionUrls = stack.urls): Promise<{ status: number; body: Events }> {
  return await call<Events>(`${urls.list}/events`, { method: 'GET', token: stack.tokenFor(who), query: `?name=${name}` });
}

/** The events of `name` once `wanted` holds for them (the controllers report a moment after the change); else fails showing the last. */
async function eventsOnce(
  name: string,
  wanted: (events: ClusterEvent[]) => boolean,
  urls: FunctionUrls = stack.urls,
): Promise<ClusterEvent[]> {
  let last: ClusterEvent[] = [];
  return await eventually(
    async () => {
      const answer = await eventsOf(name, OWNER, urls);
      expect(answer.status).toBe(200);
      last = answer.body.events;
      return wanted(last) ? last : undefined;
    },
    30_000,
    `the events of ${name}`,
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; the last were ${JSON.stringify(last, null, 2)}`, { cause: error });
  });
}

const says = (events: readonly ClusterEvent[], about: string, message: string | RegExp): boolean =>
  events.some((event) => event.about === about && (typeof message === 'string' ? event.message === message : message.test(event.message)));

describe("an instance's events, from the real control plane through the list function", () => {
  let name: string;
  beforeAll(async () => {
    const created = await call<{ name: string }>(stack.urls.create, { token: stack.tokenFor(OWNER), body: {} });
    expect(created.status).toBe(201);
    name = created.body.name;
  });

  it('tells the owner in plain words what the controllers and the scheduler did: scaled up, made a pod, placed it on a node', async () => {
    const events = await eventsOnce(
      name,
      (all) => says(all, 'pod', /^Placed on node kwok-node-\d$/) && says(all, 'instance', 'Made a new pod'),
    );
    expect(events).toContainEqual({
      time: expect.any(String),
      about: 'instance',
      warning: false,
      count: 1,
      reason: 'ScalingReplicaSet',
      message: 'Scaled up to 1 pod',
    });
    expect(events).toContainEqual(expect.objectContaining({ about: 'instance', reason: 'SuccessfulCreate', message: 'Made a new pod' }));
    // Oldest first, one cause before what it caused within a second; never the names Kubernetes gives the instance's ReplicaSets and pods.
    expect(events.map((event) => event.time)).toEqual(events.map((event) => event.time).sort());
    expect(events.map((event) => event.reason).slice(0, 3)).toEqual(['ScalingReplicaSet', 'SuccessfulCreate', 'Scheduled']);
    expect(events.filter((event) => event.message.includes(`${name}-`))).toEqual([]);
  });

  it("shows what a kubelet reports about its pod, repeats counted, and not an earlier pod's of the same name", async () => {
    const core = stack.kubeConfig.makeApiClient(CoreV1Api);
    const pod = await eventually(async () => {
      const pods = await core.listNamespacedPod({ namespace: stack.namespace, labelSelector: `${LABELS.instance}=${name}` });
      return pods.items[0];
    });
    const podName = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid ?? '';
    // As a kubelet writes one: a core/v1 Event about the pod, its repeats in `count`.
    const kubeletEvent = (objectUid: string, count: number) => ({
      metadata: { name: `${podName}.${randomBytes(8).toString('hex')}`, namespace: stack.namespace },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        name: podName,
        namespace: stack.namespace,
        uid: objectUid,
        fieldPath: 'spec.containers{syncbased}',
      },
      reason: 'BackOff',
      type: 'Warning',
      message: `Back-off restarting failed container syncbased in pod ${podName}_${stack.namespace}(${objectUid})`,
      count,
      firstTimestamp: new Date('2026-01-02T15:05:00Z'),
      lastTimestamp: new Date('2026-01-02T15:09:00Z'),
      source: { component: 'kubelet', host: pod.spec?.nodeName ?? '' },
      reportingComponent: 'kubelet',
      reportingInstance: pod.spec?.nodeName ?? '',
    });
    await core.createNamespacedEvent({ namespace: stack.namespace, body: kubeletEvent(uid, 5) });
    await core.createNamespacedEvent({ namespace: stack.namespace, body: kubeletEvent('0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0', 2) });
    const events = await eventsOnce(name, (all) => all.some((event) => event.reason === 'BackOff'));
    expect(events.filter((event) => event.reason === 'BackOff')).toEqual([
      {
        time: '2026-01-02T15:09:00.000Z',
        firstTime: '2026-01-02T15:05:00.000Z',
        about: 'pod',
        warning: true,
        count: 5,
        reason: 'BackOff',
        message: 'Its container syncbased keeps crashing; waiting before starting it again',
      },
    ]);
    // An old time: first in the list.
    expect(events[0]?.reason).toBe('BackOff');
  });

  it('lets an admin read; a stranger gets the 404 of an instance that does not exist; bad input is a 400 that says what is wrong', async () => {
    const admin = await eventsOf(name, ADMIN);
    expect(admin.status).toBe(200);
    expect(admin.body.events.length).toBeGreaterThan(0);
    const stranger = await eventsOf(name, 'eve@example.com');
    expect(stranger).toMatchObject({
      status: 404,
      body: { error: { code: 404, status: 'NOT_FOUND', message: `instance ${name} not found` } },
    });
    const missing = await call(`${stack.urls.list}/events`, { method: 'GET', token: stack.tokenFor(OWNER), query: '' });
    expect(missing).toMatchObject({
      status: 400,
      body: { error: { code: 400, status: 'INVALID_ARGUMENT', message: '"name" is required: the instance whose events to show.' } },
    });
    const notOurs = await eventsOf('postgres-1a2b3c4d', OWNER);
    expect(notOurs).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 400,
          status: 'INVALID_ARGUMENT',
          message: '"postgres-1a2b3c4d" is not an instance name of this allocator; they look like syncbased-1a2b3c4d',
        },
      },
    });
  });
});

describe('why an instance does not start, in plain words', () => {
  it.each([
    [
      "no node has the CPU it asks in its disk's zone",
      'unschedulable.json.hbs',
      'v1',
      'No node could run it: 1 of 2 has too little CPU free, 1 of 2 is not of the zone or kind it needs',
    ],
    [
      'its disk cannot be attached',
      'fails-with-version.json.hbs',
      'FailedAttachVolume',
      'Its disk data-disk could not be attached: The disk resource is already being used by another instance',
    ],
  ])('%s: a warning about its pod', async (_case, template, version, message) => {
    // Pods that fail through the real scheduler, or through kwok's stages keyed on the version (test/harness/kwok-stages).
    const urls = await stack.variant({ ALLOCATOR_TEMPLATE: fixture(template), ALLOCATOR_VERSION: version });
    const created = await call<{ name: string }>(urls.create, { token: stack.tokenFor(OWNER), body: { wait: false } });
    expect(created.status).toBe(201);
    const events = await eventsOnce(created.body.name, (all) => says(all, 'pod', message), urls);
    expect(events.find((event) => event.message === message)).toMatchObject({ about: 'pod', warning: true });
    expect((await call(urls.destroy, { token: stack.tokenFor(OWNER), body: { name: created.body.name } })).status).toBe(200);
  });
});
