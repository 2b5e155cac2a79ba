import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../../shared/instances/instance.ts';
import { NODES } from '../../harness/control-plane.ts';
import { call, PROJECT, startTestStack, ZONE, type TestStack } from '../stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'zones', overrides: { ALLOCATOR_MAX_INSTANCES_PER_USER: '8', ALLOCATOR_MAX_INSTANCES: '8' } });
});
afterAll(async () => stack?.stop());

describe('instances on a cluster with nodes in two zones', () => {
  it("run every pod in its disk's zone, whatever the template says", async () => {
    expect(new Set(NODES.map((node) => node.zone)).size).toBe(2);
    const created = await Promise.all(
      Array.from({ length: 8 }, () => call<Instance>(stack.urls.create, { token: stack.tokenFor('zed@example.com'), body: {} })),
    );
    expect(created.map((answer) => answer.status)).toEqual(Array(8).fill(201));
    const zoneOf = new Map(NODES.map((node) => [node.name as string, node.zone as string]));
    const pods = (
      await stack.kubeConfig
        .makeApiClient(CoreV1Api)
        .listNamespacedPod({ namespace: stack.namespace, labelSelector: 'allocator.dev/allocator=syncbased' })
    ).items;
    expect(pods).toHaveLength(8);
    for (const pod of pods)
      expect({ pod: pod.metadata?.name, zone: zoneOf.get(pod.spec?.nodeName ?? '') }).toEqual({ pod: pod.metadata?.name, zone: ZONE });
    // Every disk the emulator holds, in any project and zone: each instance's
    // disk must be in ZONE of PROJECT, and there must be no other disk.
    const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);
    const disks = stack.emulator.disks().map((disk) => ({ name: disk.name, zone: disk.zone.replace(/^.*\/compute\/v1\//, '') }));
    expect(disks.sort(byName)).toEqual(
      created.map((answer) => ({ name: answer.body.disk, zone: `projects/${PROJECT}/zones/${ZONE}` })).sort(byName),
    );
    await Promise.all(
      created.map((answer) => call(stack.urls.destroy, { token: stack.tokenFor('zed@example.com'), body: { name: answer.body.name } })),
    );
  });
});
