import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podStepReached } from '../../../../shared/instances/pod-steps.ts';

const CREATED = '2026-03-01T10:00:05Z';
const SINCE = Date.parse('2026-03-01T10:00:05.400Z');

function pod(
  status: V1Pod['status'],
  options: { created?: string; nodeName?: string; deleting?: boolean; containers?: number } = {},
): V1Pod {
  return {
    metadata: {
      creationTimestamp: (options.created ?? CREATED) as unknown as Date,
      ...(options.deleting ? { deletionTimestamp: new Date('2026-03-01T10:00:06Z') } : {}),
    },
    spec: {
      containers: Array.from({ length: options.containers ?? 1 }, (_, i) => ({ name: `c${i}`, image: 'x' })),
      ...(options.nodeName ? { nodeName: options.nodeName } : {}),
    },
    status,
  };
}

const scheduled = { conditions: [{ type: 'PodScheduled', status: 'True' }] };
const waiting = (reason: string) => ({
  name: 'c0',
  image: 'x',
  imageID: '',
  ready: false,
  restartCount: 0,
  state: { waiting: { reason } },
});
const running = { name: 'c0', image: 'x', imageID: '', ready: false, restartCount: 0, state: { running: { startedAt: new Date() } } };

describe('podStepReached', () => {
  it('follows a pod from pending to running', () => {
    expect(podStepReached([pod({ phase: 'Pending' })], SINCE)).toBeUndefined();
    expect(podStepReached([pod(scheduled)], SINCE)).toBe('scheduled');
    expect(podStepReached([pod({}, { nodeName: 'node-1' })], SINCE)).toBe('scheduled');
    expect(podStepReached([pod({ ...scheduled, containerStatuses: [waiting('ContainerCreating')] })], SINCE)).toBe('scheduled');
    expect(podStepReached([pod({ ...scheduled, containerStatuses: [waiting('ImagePullBackOff')] })], SINCE)).toBe('scheduled');
    expect(podStepReached([pod({ ...scheduled, containerStatuses: [waiting('CrashLoopBackOff')] })], SINCE)).toBe('pulled');
    expect(
      podStepReached([pod({ ...scheduled, containerStatuses: [{ ...waiting('ContainerCreating'), imageID: 'sha256:1' }] })], SINCE),
    ).toBe('pulled');
    expect(podStepReached([pod({ ...scheduled, containerStatuses: [running] })], SINCE)).toBe('started');
  });

  it('counts a pod started only when every container of its spec runs', () => {
    expect(podStepReached([pod({ ...scheduled, containerStatuses: [running] }, { containers: 2 })], SINCE)).toBe('scheduled');
    expect(
      podStepReached(
        [pod({ ...scheduled, containerStatuses: [running, { ...waiting('ContainerCreating'), name: 'c1' }] }, { containers: 2 })],
        SINCE,
      ),
    ).toBe('scheduled');
    expect(
      podStepReached([pod({ ...scheduled, containerStatuses: [running, { ...running, name: 'c1' }] }, { containers: 2 })], SINCE),
    ).toBe('started');
  });

  it("ignores pods made before the operation (a restart's old ones) and pods being deleted, and takes the furthest of the rest", () => {
    const old = pod({ ...scheduled, containerStatuses: [running] }, { created: '2026-03-01T10:00:04Z' });
    const going = pod({ ...scheduled, containerStatuses: [running] }, { deleting: true });
    expect(podStepReached([old, going], SINCE)).toBeUndefined();
    expect(podStepReached([old, going, pod(scheduled)], SINCE)).toBe('scheduled');
    // Made in the same second as the operation began: creationTimestamp has whole seconds.
    expect(podStepReached([pod(scheduled), pod({ ...scheduled, containerStatuses: [running] })], SINCE)).toBe('started');
  });
});
