import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isAdmin, mayAccess } from '../../../../shared/allocator/access.ts';
import { isAvailable } from '../../../../shared/allocator/create-instance.ts';
import { pollDelays } from '../../../../shared/allocator/poll.ts';
import { globalSlotNames, userSlotNames } from '../../../../shared/allocator/slots.ts';
import type { CallerIdentity } from '../../../../shared/auth/identity.ts';
import { instanceFromDeployment } from '../../../../shared/instances/instance.ts';
import { instanceSelector, withInstanceMetadata } from '../../../../shared/instances/metadata.ts';
import { ownerHashOf } from '../../../../shared/instances/naming.ts';

const user = (email: string): CallerIdentity => ({ email, subject: '1', kind: 'user' });
const owned = (email: string, serverName = 'syncbased'): V1Deployment =>
  withInstanceMetadata(
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'syncbased-1a2b3c4d', creationTimestamp: new Date('2026-11-25T01:02:03Z') }, spec: { replicas: 1, selector: {}, template: {} } },
    { serverName, name: 'syncbased-1a2b3c4d', ownerEmail: email, ownerHash: ownerHashOf(email), mountName: '/m/syncbased-1a2b3c4d', accessList: [email, 'root@example.com'], version: 'v1', diskName: 'syncbased-1a2b3c4d', createdAt: '2026-11-25T01:02:03.456Z' },
  );
const options = { serverName: 'syncbased', admins: ['root@example.com'] };

describe('who may see and destroy an instance', () => {
  it.each([
    ['its owner', owned('ada@example.com'), 'ada@example.com', true],
    ['another user', owned('ada@example.com'), 'bob@example.com', false],
    ['an admin', owned('ada@example.com'), 'root@example.com', true],
    ['its owner, on another allocator\'s Deployment', owned('ada@example.com', 'other'), 'ada@example.com', false],
    ['an admin, on another allocator\'s Deployment', owned('ada@example.com', 'other'), 'root@example.com', false],
    ['anyone, on an unlabelled Deployment', { metadata: { name: 'x' } }, 'root@example.com', false],
  ] as const)('%s: %s', (_label, deployment, email, expected) => {
    expect(mayAccess(deployment, user(email), options)).toBe(expected);
  });

  it('does not accept an owner label whose annotation names somebody else', () => {
    const forged = owned('ada@example.com');
    forged.metadata!.annotations!['allocator.dev/owner'] = 'mallory@example.com';
    expect(mayAccess(forged, user('ada@example.com'), options)).toBe(false);
    expect(mayAccess(forged, user('mallory@example.com'), options)).toBe(false);
  });

  it('knows admins by exact email', () => {
    expect(isAdmin(['root@example.com'], user('root@example.com'))).toBe(true);
    expect(isAdmin(['root@example.com'], user('root@example.com.evil'))).toBe(false);
  });
});

describe('instances read back from Deployments', () => {
  it('carries what list shows', () => {
    const deployment = owned('ada@example.com');
    deployment.status = { readyReplicas: 1 };
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
    });
  });

  it('selects one owner\'s instances by label, or all of this allocator\'s', () => {
    expect(instanceSelector('syncbased', 'abc')).toBe('allocator.dev/allocator=syncbased,allocator.dev/owner-hash=abc');
    expect(instanceSelector('syncbased')).toBe('allocator.dev/allocator=syncbased');
  });
});

describe('availability and slots', () => {
  it.each([
    [{ observedGeneration: 1, availableReplicas: 1, updatedReplicas: 1 }, true],
    [{ observedGeneration: 0, availableReplicas: 1, updatedReplicas: 1 }, false],
    [{ observedGeneration: 1, availableReplicas: 0, updatedReplicas: 1 }, false],
    [{ observedGeneration: 1, availableReplicas: 1, updatedReplicas: 0 }, false],
    [{}, false],
  ])('status %j is available: %s', (status, expected) => {
    expect(isAvailable({ metadata: { generation: 1 }, spec: { replicas: 1, selector: {}, template: {} }, status })).toBe(expected);
  });

  it('names one slot per allowed instance', () => {
    expect(userSlotNames('syncbased', 'abc', 2)).toEqual(['syncbased-u-abc-0', 'syncbased-u-abc-1']);
    expect(globalSlotNames('syncbased', 3)).toEqual(['syncbased-g-0', 'syncbased-g-1', 'syncbased-g-2']);
  });
});

describe('pollDelays', () => {
  it('polls every 50 ms for a second, then backs off to 1 s', () => {
    const delays = pollDelays();
    const first = Array.from({ length: 26 }, () => delays.next().value);
    expect(first.slice(0, 20)).toEqual(Array(20).fill(50));
    expect(first.slice(20)).toEqual([75, 113, 170, 255, 383, 575]);
    expect(Array.from({ length: 5 }, () => delays.next().value)).toEqual([863, 1000, 1000, 1000, 1000]);
  });
});
