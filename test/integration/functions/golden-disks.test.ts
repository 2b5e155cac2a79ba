import { AppsV1Api, CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../../shared/instances/instance.ts';
import { call, diskNames, PROJECT, startTestStack, ZONE, type TestStack } from '../stack.ts';

type Answer = Instance & { error?: { code: number; status: string; message: string } };
const op = async (stack: TestStack, url: string, email: string, body: Record<string, unknown>) =>
  await call<Answer>(url, { token: stack.tokenFor(email), body });
const disk = (stack: TestStack, name: string) => stack.emulator.disks({ project: PROJECT, zone: ZONE }).find((d) => d.name === name);

describe('golden disks: every disk made from ALLOCATOR_DISK_SOURCE_SNAPSHOT', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ prefix: 'golden', overrides: { ALLOCATOR_DISK_SOURCE_SNAPSHOT: 'global/snapshots/golden' } });
  });
  afterAll(async () => stack?.stop());

  it('create makes the disk from the snapshot, and so does reset', async () => {
    const snapshot = stack.emulator.addSnapshot(PROJECT, 'golden', { diskSizeGb: 10 });
    const created = await op(stack, stack.urls.create, 'ada@example.com', {});
    expect(created.status).toBe(201);
    const name = created.body.name;
    const first = disk(stack, name);
    expect(first).toMatchObject({ sourceSnapshot: snapshot.selfLink, sourceSnapshotId: snapshot.id, sizeGb: '10' });

    const reset = await op(stack, `${stack.urls.destroy}/reset`, 'ada@example.com', { name });
    expect(reset.status).toBe(200);
    const fresh = disk(stack, name);
    expect(fresh?.id).not.toBe(first?.id);
    expect(fresh).toMatchObject({ sourceSnapshot: snapshot.selfLink, sourceSnapshotId: snapshot.id });

    expect((await op(stack, stack.urls.destroy, 'ada@example.com', { name })).status).toBe(200);
    expect(diskNames(stack.emulator)).toEqual([]);
  });
});

describe('golden disks: a snapshot that does not exist', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      prefix: 'golden-missing',
      overrides: { ALLOCATOR_DISK_SOURCE_SNAPSHOT: `projects/${PROJECT}/global/snapshots/missing` },
    });
  });
  afterAll(async () => stack?.stop());

  it('answers create with a 500 that names the setting, and leaves no disk, slot or Deployment', async () => {
    const created = await op(stack, stack.urls.create, 'ada@example.com', {});
    expect(created.status).toBe(500);
    expect(created.body.error).toMatchObject({ code: 500, status: 'INTERNAL' });
    expect(created.body.error?.message).toMatch(
      /^ALLOCATOR_DISK_SOURCE_SNAPSHOT names a snapshot that does not exist \(projects\/test-project\/global\/snapshots\/missing\).*The resource 'projects\/test-project\/global\/snapshots\/missing' was not found/,
    );
    expect(diskNames(stack.emulator)).toEqual([]);
    const deployments = await stack.kubeConfig.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: stack.namespace });
    expect(deployments.items).toEqual([]);
    const leases = await stack.kubeConfig.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: stack.namespace });
    expect(leases.items).toEqual([]);
  });
});
