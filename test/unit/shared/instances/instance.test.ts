import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { instanceFromDeployment, isAvailable, stateOf } from '../../../../shared/instances/instance.ts';
import { instanceSelector, withInstanceMetadata } from '../../../../shared/instances/metadata.ts';
import { ownerHashOf } from '../../../../shared/instances/naming.ts';

const owned = (email: string, serverName = 'syncbased'): V1Deployment =>
  withInstanceMetadata(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'syncbased-1a2b3c4d', creationTimestamp: new Date('2026-11-25T01:02:03Z') },
      spec: { replicas: 1, selector: {}, template: {} },
    },
    {
      serverName,
      diskZone: 'us-central1-c',
      name: 'syncbased-1a2b3c4d',
      ownerEmail: email,
      ownerSubject: '1',
      ownerHash: ownerHashOf(email),
      mountName: '/m/syncbased-1a2b3c4d',
      accessList: [email, 'root@example.com'],
      version: 'v1',
      diskName: 'syncbased-1a2b3c4d',
      createdAt: '2026-11-25T01:02:03.456Z',
    },
  );

describe('instances read back from Deployments', () => {
  it('carries what list shows', () => {
    const deployment = owned('ada@example.com');
    deployment.status = { observedGeneration: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1 };
    expect(instanceFromDeployment(deployment)).toEqual({
      name: 'syncbased-1a2b3c4d',
      owner: 'ada@example.com',
      mountName: '/m/syncbased-1a2b3c4d',
      accessList: { In: ['ada@example.com', 'root@example.com'] },
      creationTime: '2026-11-25T01:02:03.456Z',
      replicas: 1,
      readyReplicas: 1,
      version: 'v1',
      disk: 'syncbased-1a2b3c4d',
      expiresAt: null,
      parameters: {},
      state: 'ready',
      problems: [],
      collaborators: [],
    });
  });

  it("selects one owner's instances by label, or all of this allocator's", () => {
    expect(instanceSelector('syncbased', 'abc')).toBe('allocator.dev/allocator=syncbased,allocator.dev/owner-hash=abc');
    expect(instanceSelector('syncbased')).toBe('allocator.dev/allocator=syncbased');
  });
});

describe('availability', () => {
  it.each([
    [{ observedGeneration: 1, availableReplicas: 1, updatedReplicas: 1 }, true],
    [{ observedGeneration: 0, availableReplicas: 1, updatedReplicas: 1 }, false],
    [{ observedGeneration: 1, availableReplicas: 0, updatedReplicas: 1 }, false],
    [{ observedGeneration: 1, availableReplicas: 1, updatedReplicas: 0 }, false],
    [{}, false],
  ])('status %j is available: %s', (status, expected) => {
    expect(isAvailable({ metadata: { generation: 1 }, spec: { replicas: 1, selector: {}, template: {} }, status })).toBe(expected);
  });
});

describe("an instance's state", () => {
  const problem = { reason: 'ImagePullBackOff', message: 'x', since: '2026-11-25T00:00:00.000Z', permanent: false };
  const with_ = (change: (d: V1Deployment) => void): V1Deployment => {
    const deployment = owned('ada@example.com');
    change(deployment);
    return deployment;
  };
  it.each([
    ['being deleted', with_((d) => (d.metadata!.deletionTimestamp = new Date())), [], 'deleting'],
    ['scaled to 0', with_((d) => (d.spec!.replicas = 0)), [], 'suspended'],
    ['available', with_((d) => (d.status = { observedGeneration: 1, availableReplicas: 1, updatedReplicas: 1 })), [], 'ready'],
    ['not yet available', with_(() => undefined), [], 'starting'],
    ['not available, with a problem', with_(() => undefined), [problem], 'failing'],
    ['suspended, with a stale problem', with_((d) => (d.spec!.replicas = 0)), [problem], 'suspended'],
  ] as const)('%s: %s', (_label, deployment, problems, state) => {
    expect(stateOf(deployment, problems)).toBe(state);
  });
});
