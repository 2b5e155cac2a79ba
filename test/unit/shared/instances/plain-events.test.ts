import type { CoreV1Event } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { plainEvents, sentenceOf, withoutInternalNames } from '../../../../shared/instances/plain-events.ts';

const INSTANCE = 'syncbased-1a2b3c4d';
const REPLICA_SET = `${INSTANCE}-5d8f7c9b6`;
const POD = `${REPLICA_SET}-x7k2p`;
const IMAGE = 'us-docker.pkg.dev/p/r/syncbased:v1';

/** An event as the API server lists it (client-node gives its times as Dates). */
function event(fields: {
  reason: string;
  message: string;
  kind?: string;
  name?: string;
  type?: 'Normal' | 'Warning';
  count?: number;
  first?: string;
  last?: string;
  eventTime?: string;
  series?: { count: number; lastObservedTime: string };
}): CoreV1Event {
  const kind = fields.kind ?? 'Pod';
  return {
    metadata: {
      name: `${fields.name ?? POD}.18a1b2c3d4e5f6a7`,
      creationTimestamp: new Date(fields.first ?? fields.eventTime ?? '2026-01-02T15:04:05Z'),
    },
    involvedObject: { kind, name: fields.name ?? POD, namespace: 'allocator', uid: `uid-${kind}` },
    reason: fields.reason,
    message: fields.message,
    type: fields.type ?? 'Normal',
    ...(fields.count === undefined ? {} : { count: fields.count }),
    ...(fields.first === undefined ? {} : { firstTimestamp: new Date(fields.first) }),
    ...(fields.last === undefined ? {} : { lastTimestamp: new Date(fields.last) }),
    ...(fields.eventTime === undefined ? {} : { eventTime: new Date(fields.eventTime) }),
    ...(fields.series === undefined
      ? {}
      : { series: { count: fields.series.count, lastObservedTime: new Date(fields.series.lastObservedTime) } }),
  };
}

describe('sentenceOf: what each event says, in plain words', () => {
  it.each([
    // The Deployment controller, in the message of Kubernetes 1.29 on and of before.
    ['ScalingReplicaSet', `Scaled up replica set ${REPLICA_SET} from 0 to 1`, 'Scaled up to 1 pod'],
    ['ScalingReplicaSet', `Scaled down replica set ${REPLICA_SET} from 1 to 0`, 'Scaled down to 0 pods'],
    ['ScalingReplicaSet', `Scaled up replica set ${REPLICA_SET} to 2`, 'Scaled up to 2 pods'],
    // The ReplicaSet controller.
    ['SuccessfulCreate', `Created pod: ${POD}`, 'Made a new pod'],
    ['SuccessfulDelete', `Deleted pod: ${POD}`, 'Removed a pod'],
    [
      'FailedCreate',
      `Error creating: pods "${REPLICA_SET}-" is forbidden: exceeded quota: compute-resources, requested: requests.cpu=2, used: requests.cpu=7, limited: requests.cpu=8`,
      "Could not make its pod: the namespace's quota compute-resources is used up (it asks requests.cpu=2; requests.cpu=7 of requests.cpu=8 used)",
    ],
    [
      'FailedCreate',
      `Error creating: pods "${POD}" is forbidden: violates PodSecurity "baseline:latest": privileged (container "syncbased" must not set securityContext.privileged=true)`,
      'Could not make its pod: not allowed: violates PodSecurity "baseline:latest": privileged (container "syncbased" must not set securityContext.privileged=true)',
    ],
    // The scheduler.
    ['Scheduled', `Successfully assigned allocator/${POD} to gke-main-pool-7c1d-x2`, 'Placed on node gke-main-pool-7c1d-x2'],
    [
      'FailedScheduling',
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
      'No node could run it: 2 of 2 have too little CPU free',
    ],
    [
      'FailedScheduling',
      '0/3 nodes are available: 1 Insufficient memory, 2 node(s) had volume node affinity conflict. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
      "No node could run it: 1 of 3 has too little memory free, 2 of 3 are not in its disk's zone",
    ],
    [
      'FailedScheduling',
      "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
      'No node could run it: 1 of 3 is not ready, 2 of 3 are not of the zone or kind it needs',
    ],
    [
      'FailedScheduling',
      'pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available',
      'No node could run it: its disk claim is not bound yet',
    ],
    [
      'Preempted',
      `Preempted by pod 5f3c9a7e-2b1d-4c8e-9f0a-1b2c3d4e5f6a on node gke-main-pool-7c1d-x2`,
      'Stopped to make room for more important work',
    ],
    // The kubelet: the image.
    ['Pulling', `Pulling image "${IMAGE}"`, `Downloading the image ${IMAGE}`],
    [
      'Pulled',
      `Successfully pulled image "${IMAGE}" in 2.1s (2.1s including waiting). Image size: 48213012 bytes.`,
      `Downloaded the image ${IMAGE} in 2.1s`,
    ],
    ['Pulled', `Successfully pulled image "${IMAGE}" in 812ms (812ms including waiting)`, `Downloaded the image ${IMAGE} in 812ms`],
    ['Pulled', `Container image "${IMAGE}" already present on machine`, `The image ${IMAGE} was already on its node`],
    [
      'Failed',
      'Failed to pull image "us-docker.pkg.dev/p/r/syncbased:v9": rpc error: code = NotFound desc = failed to pull and unpack image "us-docker.pkg.dev/p/r/syncbased:v9": failed to resolve reference "us-docker.pkg.dev/p/r/syncbased:v9": us-docker.pkg.dev/p/r/syncbased:v9: not found',
      'Could not download the image us-docker.pkg.dev/p/r/syncbased:v9: it does not exist',
    ],
    [
      'Failed',
      `Failed to pull image "${IMAGE}": rpc error: code = Unknown desc = failed to pull and unpack image "${IMAGE}": failed to resolve reference "${IMAGE}": unexpected status from HEAD request to https://us-docker.pkg.dev/v2/p/r/syncbased/manifests/v1: 429 Too Many Requests`,
      `Could not download the image ${IMAGE}: the registry asks to wait (too many requests)`,
    ],
    [
      'Failed',
      `Failed to pull image "${IMAGE}": rpc error: code = Unknown desc = failed to pull and unpack image "${IMAGE}": failed to resolve reference "${IMAGE}": failed to authorize: failed to fetch oauth token: unexpected status: 403 Forbidden`,
      `Could not download the image ${IMAGE}: access to it was refused`,
    ],
    ['Failed', 'Error: ErrImagePull', 'Could not download its image'],
    ['Failed', 'Error: ImagePullBackOff', 'Could not download its image'],
    [
      'Failed',
      'Failed to apply default image tag "Syncbased:v1": couldn\'t parse image name "Syncbased:v1": invalid reference format: repository name must be lowercase',
      'The image name Syncbased:v1 is not valid',
    ],
    ['Failed', 'Error: InvalidImageName', 'Its image name is not valid'],
    ['Failed', 'Error: secret "db-password" not found', 'Its container could not start: secret "db-password" not found'],
    ['BackOff', `Back-off pulling image "${IMAGE}"`, `Waiting before trying to download the image ${IMAGE} again`],
    [
      'BackOff',
      `Back-off restarting failed container syncbased in pod ${POD}_allocator(0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0)`,
      'Its container syncbased keeps crashing; waiting before starting it again',
    ],
    // The kubelet: the containers.
    ['Created', 'Created container: syncbased', 'Made its container syncbased'],
    ['Created', 'Created container syncbased', 'Made its container syncbased'],
    ['Started', 'Started container syncbased', 'Started its container syncbased'],
    ['Killing', 'Stopping container syncbased', 'Stopping its container syncbased'],
    [
      'Unhealthy',
      'Readiness probe failed: HTTP probe failed with statuscode: 503',
      'Not ready: its readiness check failed (HTTP probe failed with statuscode: 503)',
    ],
    [
      'Unhealthy',
      'Liveness probe failed: Get "http://10.4.0.7:8101/healthz": dial tcp 10.4.0.7:8101: connect: connection refused',
      'Its liveness check failed (Get "http://10.4.0.7:8101/healthz": dial tcp 10.4.0.7:8101: connect: connection refused); if that goes on, it is restarted',
    ],
    [
      'Unhealthy',
      'Startup probe failed: command "pg_isready" timed out',
      'Still starting: its startup check failed (command "pg_isready" timed out)',
    ],
    // The kubelet and the attach/detach controller: volumes and disks. A template's own names (`<instance>-config`) stay.
    [
      'FailedMount',
      `MountVolume.SetUp failed for volume "config" : configmap "${INSTANCE}-config" not found`,
      `Its volume config could not be mounted: configmap "${INSTANCE}-config" not found`,
    ],
    [
      'FailedMount',
      'Unable to attach or mount volumes: unmounted volumes=[data-disk], unattached volumes=[data-disk kube-api-access-6x2lq]: timed out waiting for the condition',
      'Still waiting for its volumes data-disk to be attached and mounted',
    ],
    [
      'FailedAttachVolume',
      'AttachVolume.Attach failed for volume "data-disk" : googleapi: Error 400: The disk resource is already being used by another instance',
      'Its disk data-disk could not be attached: The disk resource is already being used by another instance',
    ],
    [
      'FailedAttachVolume',
      'Multi-Attach error for volume "data-disk" Volume is already exclusively attached to one node and can\'t be attached to another',
      'Its disk data-disk is still attached to another node; waiting for it to be let go',
    ],
    ['SuccessfulAttachVolume', 'AttachVolume.Attach succeeded for volume "data-disk"', 'Attached its disk data-disk'],
    // The node.
    [
      'OOMKilling',
      'Memory cgroup out of memory: Killed process 4242 (syncbased) total-vm:2097152kB, anon-rss:1048576kB',
      'It ran out of memory and was stopped',
    ],
    [
      'Evicted',
      'The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 9Gi. Container syncbased was using 12Gi, request is 0, has larger consumption of ephemeral-storage.',
      'Its node ran low on local disk space and moved it off',
    ],
    ['NodeNotReady', 'Node is not ready', 'Its node stopped answering'],
    [
      'FailedCreatePodSandBox',
      'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "4f1c": plugin type="gke" failed (add): no IP addresses available',
      'Its node could not set it up: failed to setup network for sandbox "4f1c": plugin type="gke" failed (add): no IP addresses available',
    ],
    ['SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.', 'Its node set it up again; its containers start again'],
    // The Service controller.
    ['EnsuringLoadBalancer', 'Ensuring load balancer', 'Setting up its load balancer'],
    ['EnsuredLoadBalancer', 'Ensured load balancer', 'Its load balancer is ready'],
    [
      'SyncLoadBalancerFailed',
      "Error syncing load balancer: failed to ensure load balancer: googleapi: Error 403: QUOTA_EXCEEDED - Quota 'FORWARDING_RULES' exceeded.  Limit: 15.0 globally.",
      "Its load balancer could not be set up: QUOTA_EXCEEDED - Quota 'FORWARDING_RULES' exceeded.  Limit: 15.0 globally.",
    ],
    // Anything else: its message, without the innards' names.
    [
      'FailedKillPod',
      `error killing pod: failed to "KillPodSandbox" for "${POD}_allocator(0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0)" with KillPodSandboxError: "rpc error: code = Unknown desc = network plugin failed"`,
      'error killing pod: failed to "KillPodSandbox" for "its pod" with KillPodSandboxError: "rpc error: code = Unknown desc = network plugin failed"',
    ],
    ['ScalingReplicaSet', `Rolled back ${REPLICA_SET} by hand`, 'Rolled back its pods by hand'],
    ['FailedSync', '', 'Failed sync'],
    [
      'BackOff',
      '(combined from similar events): Back-off restarting failed container db in pod x',
      'Its container db keeps crashing; waiting before starting it again',
    ],
  ])('%s: %s', (reason, message, sentence) => {
    expect(sentenceOf({ reason, message }, INSTANCE)).toBe(sentence);
  });
});

describe('withoutInternalNames', () => {
  it.each([
    [`pod allocator/${POD} on node n`, 'pod its pod on node n'],
    [`replica set ${REPLICA_SET} and pod ${POD}`, 'replica set its pods and pod its pod'],
    // Names of the template's own objects, and another instance's, are not the innards of this one.
    [
      `configmap ${INSTANCE}-config, service ${INSTANCE}, pod syncbased-9f8e7d6c-5d8f7c9b6-x7k2p`,
      `configmap ${INSTANCE}-config, service ${INSTANCE}, pod syncbased-9f8e7d6c-5d8f7c9b6-x7k2p`,
    ],
  ])('%s', (text, expected) => {
    expect(withoutInternalNames(text, INSTANCE)).toBe(expected);
  });
});

describe('plainEvents', () => {
  it('says what each is about: the Deployment and its ReplicaSets are the instance; its pod; a Service, by name', () => {
    expect(
      plainEvents(
        [
          event({
            kind: 'Deployment',
            name: INSTANCE,
            reason: 'ScalingReplicaSet',
            message: `Scaled up replica set ${REPLICA_SET} from 0 to 1`,
            first: '2026-01-02T15:04:01Z',
            last: '2026-01-02T15:04:01Z',
            count: 1,
          }),
          event({
            kind: 'ReplicaSet',
            name: REPLICA_SET,
            reason: 'SuccessfulCreate',
            message: `Created pod: ${POD}`,
            first: '2026-01-02T15:04:02Z',
            last: '2026-01-02T15:04:02Z',
            count: 1,
          }),
          event({
            reason: 'Scheduled',
            message: `Successfully assigned allocator/${POD} to kwok-node-0`,
            eventTime: '2026-01-02T15:04:03.250000Z',
          }),
          event({
            kind: 'Service',
            name: `${INSTANCE}-db`,
            reason: 'EnsuringLoadBalancer',
            message: 'Ensuring load balancer',
            first: '2026-01-02T15:04:04Z',
            last: '2026-01-02T15:04:04Z',
            count: 1,
          }),
        ],
        INSTANCE,
      ),
    ).toEqual([
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
        time: '2026-01-02T15:04:03.250Z',
        about: 'pod',
        warning: false,
        count: 1,
        reason: 'Scheduled',
        message: 'Placed on node kwok-node-0',
      },
      {
        time: '2026-01-02T15:04:04.000Z',
        about: 'service',
        service: `${INSTANCE}-db`,
        warning: false,
        count: 1,
        reason: 'EnsuringLoadBalancer',
        message: 'Setting up its load balancer',
      },
    ]);
  });

  it("counts an old-style event's repeats and a new-style event's series, from its first time to its last", () => {
    expect(
      plainEvents(
        [
          event({
            reason: 'BackOff',
            type: 'Warning',
            message: `Back-off restarting failed container syncbased in pod ${POD}_allocator(0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0)`,
            count: 5,
            first: '2026-01-02T15:05:00Z',
            last: '2026-01-02T15:09:00Z',
          }),
          event({
            reason: 'FailedScheduling',
            type: 'Warning',
            message:
              '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
            eventTime: '2026-01-02T15:04:00.100000Z',
            series: { count: 4, lastObservedTime: '2026-01-02T15:06:00.500000Z' },
          }),
        ],
        INSTANCE,
      ),
    ).toEqual([
      {
        time: '2026-01-02T15:06:00.500Z',
        firstTime: '2026-01-02T15:04:00.100Z',
        about: 'pod',
        warning: true,
        count: 4,
        reason: 'FailedScheduling',
        message: 'No node could run it: 2 of 2 have too little CPU free',
      },
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
  });

  it('folds events that say the same of the same subject (two pods, one after the other) into one, counts added; not a Normal one into a Warning', () => {
    const crashes = (pod: string, count: number, first: string, last: string) =>
      event({
        name: pod,
        reason: 'BackOff',
        type: 'Warning',
        message: `Back-off restarting failed container syncbased in pod ${pod}_allocator(0f1e)`,
        count,
        first,
        last,
      });
    expect(
      plainEvents(
        [
          crashes(`${REPLICA_SET}-k9z2w`, 2, '2026-01-02T15:10:00Z', '2026-01-02T15:11:00Z'),
          crashes(POD, 3, '2026-01-02T15:04:00Z', '2026-01-02T15:06:00Z'),
          event({
            reason: 'Started',
            message: 'Started container syncbased',
            count: 3,
            first: '2026-01-02T15:04:00Z',
            last: '2026-01-02T15:05:30Z',
          }),
        ],
        INSTANCE,
      ),
    ).toEqual([
      {
        time: '2026-01-02T15:05:30.000Z',
        firstTime: '2026-01-02T15:04:00.000Z',
        about: 'pod',
        warning: false,
        count: 3,
        reason: 'Started',
        message: 'Started its container syncbased',
      },
      {
        time: '2026-01-02T15:11:00.000Z',
        firstTime: '2026-01-02T15:04:00.000Z',
        about: 'pod',
        warning: true,
        count: 5,
        reason: 'BackOff',
        message: 'Its container syncbased keeps crashing; waiting before starting it again',
      },
    ]);
  });

  it('orders by when each last happened, whatever order they are listed in, from the times that are set (the creation time if none is)', () => {
    const listed = [
      event({ reason: 'Started', message: 'Started container syncbased', first: '2026-01-02T15:04:09Z', last: '2026-01-02T15:04:09Z' }),
      event({ reason: 'Pulling', message: `Pulling image "${IMAGE}"`, first: '2026-01-02T15:04:07Z' }),
      event({ reason: 'Created', message: 'Created container: syncbased' }),
      // A new-style event read as core/v1: its old fields at Go's zero time.
      event({
        reason: 'Killing',
        message: 'Stopping container syncbased',
        first: '0001-01-01T00:00:00Z',
        last: '0001-01-01T00:00:00Z',
        eventTime: '2026-01-02T15:04:11.5Z',
      }),
    ];
    expect(plainEvents(listed, INSTANCE).map((entry) => [entry.time, entry.message])).toEqual([
      ['2026-01-02T15:04:05.000Z', 'Made its container syncbased'],
      ['2026-01-02T15:04:07.000Z', `Downloading the image ${IMAGE}`],
      ['2026-01-02T15:04:09.000Z', 'Started its container syncbased'],
      ['2026-01-02T15:04:11.500Z', 'Stopping its container syncbased'],
    ]);
  });
});
