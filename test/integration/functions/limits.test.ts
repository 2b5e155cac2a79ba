import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFunctionProcess, type FunctionProcess } from '../../harness/function-process.ts';
import { ADMIN, call, diskNames, startTestStack, type TestStack } from '../stack.ts';

let stack: TestStack;
let logDir: string;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'limits' });
  logDir = mkdtempSync(join(tmpdir(), 'allocator-limits-'));
});
afterAll(async () => {
  await stack?.stop();
  rmSync(logDir, { recursive: true, force: true });
});

/** Two create functions as separate framework processes, with the given limits. */
async function twoCreateProcesses(limits: { perUser: number; global: number }): Promise<FunctionProcess[]> {
  const env = { ...stack.env, ALLOCATOR_MAX_INSTANCES_PER_USER: String(limits.perUser), ALLOCATOR_MAX_INSTANCES: String(limits.global) };
  return await Promise.all(
    [0, 1].map((i) =>
      startFunctionProcess({ name: 'create', env, logFile: join(logDir, `create-${limits.perUser}-${limits.global}-${i}.log`) }),
    ),
  );
}

async function destroyAll(): Promise<void> {
  const all = await call<{ instances: { name: string }[] }>(stack.urls.list, {
    token: stack.tokenFor(ADMIN),
    method: 'GET',
    query: '?all=true',
  });
  await Promise.all(
    all.body.instances.map((instance) => call(stack.urls.destroy, { token: stack.tokenFor(ADMIN), body: { name: instance.name } })),
  );
}

async function deploymentNames(): Promise<string[]> {
  return (await stack.kubeConfig.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: stack.namespace })).items
    .map((deployment) => deployment.metadata?.name ?? '')
    .sort();
}

describe('limits under concurrency, across two server processes', () => {
  it('gives one user exactly the per-user limit out of 20 simultaneous creates', async () => {
    // A global slot for each of the 20: a create claims both slots at once, so the 17 over their own
    // limit each hold a global slot for a round trip, which at a tighter global limit may turn away
    // one of the 3 within it (the global limit's own exactness is the next test's).
    const processes = await twoCreateProcesses({ perUser: 3, global: 20 });
    try {
      const token = stack.tokenFor('hal@example.com');
      const statuses = await Promise.all(
        Array.from({ length: 20 }, (_, i) => call(processes[i % 2]!.url, { token, body: { wait: false } }).then((r) => r.status)),
      );
      expect(statuses.filter((s) => s === 201)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429)).toHaveLength(17);
      const deployments = await deploymentNames();
      expect(deployments).toHaveLength(3);
      expect(diskNames(stack.emulator)).toEqual(deployments); // each instance's disk, in ZONE, and no other
    } finally {
      await Promise.all(processes.map((p) => p.stop()));
      await destroyAll();
    }
  });

  it('gives 20 users together exactly the global limit', async () => {
    const processes = await twoCreateProcesses({ perUser: 2, global: 5 });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          call(processes[i % 2]!.url, { token: stack.tokenFor(`user${i}@example.com`), body: { wait: false } }).then((r) => r.status),
        ),
      );
      expect(statuses.filter((s) => s === 201)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(15);
      const deployments = await deploymentNames();
      expect(deployments).toHaveLength(5);
      expect(diskNames(stack.emulator)).toEqual(deployments);
    } finally {
      await Promise.all(processes.map((p) => p.stop()));
      await destroyAll();
    }
    expect(await deploymentNames()).toEqual([]);
    expect(diskNames(stack.emulator)).toEqual([]);
  });
});
