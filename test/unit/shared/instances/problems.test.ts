import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Problem } from '../../../../shared/api-types.ts';
import { problemsOf } from '../../../../shared/instances/problems.ts';

const NOW = '2026-11-25T12:00:00.000Z';
const pod = (name: string, status: V1Pod['status'], deleting = false): V1Pod => ({
  metadata: { name, ...(deleting ? { deletionTimestamp: new Date(NOW) } : {}) },
  status,
});
const waiting = (reason: string, message: string): V1Pod['status'] => ({
  startTime: new Date('2026-11-25T11:59:00Z'),
  containerStatuses: [
    { name: 'syncbased', image: 'i', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason, message } } },
  ],
});
const event = (podName: string, reason: string, message: string, type = 'Warning'): CoreV1Event => ({
  metadata: {},
  involvedObject: { kind: 'Pod', name: podName },
  reason,
  message,
  type,
  firstTimestamp: new Date('2026-11-25T11:58:00Z'),
});

describe('problemsOf', () => {
  it.each<[string, V1Pod[], CoreV1Event[], Problem[]]>([
    [
      'a healthy pod',
      [pod('p', { containerStatuses: [{ name: 'c', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] })],
      [],
      [],
    ],
    [
      'an image that cannot be pulled',
      [pod('p', waiting('ImagePullBackOff', 'Back-off pulling image "x"'))],
      [],
      [
        {
          reason: 'ImagePullBackOff',
          message: 'syncbased: Back-off pulling image "x"',
          since: '2026-11-25T11:59:00.000Z',
          permanent: false,
        },
      ],
    ],
    [
      'a pull error',
      [pod('p', waiting('ErrImagePull', 'manifest unknown'))],
      [],
      [{ reason: 'ErrImagePull', message: 'syncbased: manifest unknown', since: '2026-11-25T11:59:00.000Z', permanent: true }],
    ],
    [
      'a crashing container',
      [pod('p', waiting('CrashLoopBackOff', 'back-off 5m0s restarting failed container'))],
      [],
      [
        {
          reason: 'CrashLoopBackOff',
          message: 'syncbased: back-off 5m0s restarting failed container',
          since: '2026-11-25T11:59:00.000Z',
          permanent: false,
        },
      ],
    ],
    ['a container still being created', [pod('p', waiting('ContainerCreating', ''))], [], []],
    [
      'a pod the scheduler cannot place',
      [
        pod('p', {
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: '0/1 nodes are available: 1 Insufficient cpu.',
              lastTransitionTime: new Date('2026-11-25T11:57:00Z'),
            },
          ],
        }),
      ],
      [],
      [
        {
          reason: 'FailedScheduling',
          message: '0/1 nodes are available: 1 Insufficient cpu.',
          since: '2026-11-25T11:57:00.000Z',
          permanent: false,
        },
      ],
    ],
    [
      'a volume that cannot attach, and one that cannot mount',
      [pod('p', {})],
      [
        event('p', 'FailedAttachVolume', 'AttachVolume.Attach failed for volume "data-disk"'),
        event('p', 'FailedMount', 'MountVolume.MountDevice failed'),
        event('p', 'Scheduled', 'ok', 'Normal'),
        event('other', 'FailedMount', 'not ours'),
      ],
      [
        {
          reason: 'FailedAttachVolume',
          message: 'AttachVolume.Attach failed for volume "data-disk"',
          since: '2026-11-25T11:58:00.000Z',
          permanent: false,
        },
        { reason: 'FailedMount', message: 'MountVolume.MountDevice failed', since: '2026-11-25T11:58:00.000Z', permanent: false },
      ],
    ],
    ['a pod on its way out', [pod('p', waiting('CrashLoopBackOff', 'x'), true)], [], []],
  ])('%s', (_label, pods, events, expected) => {
    expect(problemsOf(pods, events, NOW)).toEqual(expected);
  });

  it("keeps a pull's permanent Failed event over the generic one the kubelet sends with it", () => {
    const notFound = 'Failed to pull image "x:v9": rpc error: code = NotFound desc = failed to resolve reference "x:v9": x:v9: not found';
    for (const events of [
      [event('p', 'Failed', 'Error: ErrImagePull'), event('p', 'Failed', notFound)],
      [event('p', 'Failed', notFound), event('p', 'Failed', 'Error: ErrImagePull')],
    ]) {
      expect(problemsOf([pod('p', {})], events, NOW)).toEqual([
        { reason: 'Failed', message: notFound, since: '2026-11-25T11:58:00.000Z', permanent: true },
      ]);
    }
  });

  it('keeps one problem per reason, the first seen', () => {
    const pods = [
      pod('a', waiting('ImagePullBackOff', 'first')),
      pod('b', { ...waiting('ImagePullBackOff', 'second'), startTime: new Date('2026-11-25T11:00:00Z') }),
    ];
    expect(problemsOf(pods, [], NOW)).toEqual([
      { reason: 'ImagePullBackOff', message: 'syncbased: second', since: '2026-11-25T11:00:00.000Z', permanent: false },
    ]);
  });
});
