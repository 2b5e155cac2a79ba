import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoordinationV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DestroyedInstance, DestroyResult } from '../../../shared/api-types.ts';
import { runSweep } from '../../../shared/executors/run-sweep.ts';
import { executionContext, SWEEPER } from '../../../shared/handlers/execution-context.ts';
import type { Instance } from '../../../shared/instances/instance.ts';
import { ADMIN, call, diskNames, PROJECT, startTestStack, ZONE, type TestStack } from '../stack.ts';

const WINDOW_SECONDS = 3600;
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    prefix: 'restore',
    overrides: {
      ALLOCATOR_RESTORE_WINDOW_SECONDS: String(WINDOW_SECONDS),
      ALLOCATOR_MAX_INSTANCES_PER_USER: '2',
      // A template with parameters, so that a restore is seen to render the instance with its own.
      ALLOCATOR_TEMPLATE: fileURLToPath(new URL('../../fixtures/templates/parameters.json.hbs', import.meta.url)),
      ALLOCATOR_PARAMETERS: fileURLToPath(new URL('../../fixtures/templates/parameters.yaml', import.meta.url)),
    },
  });
});
afterAll(async () => stack?.stop());

const ada = 'ada@example.com';
const bob = 'bob@example.com';

type Answer<T> = T & { error?: { code: number; status: string; message: string } };
const create = async (email: string, body: Record<string, unknown> = {}, headers?: Record<string, string>) => {
  if (!headers) return await call<Answer<Instance>>(stack.urls.create, { token: stack.tokenFor(email), body });
  const response = await fetch(stack.urls.create, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.tokenFor(email)}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer<Instance> };
};
const destroy = async (email: string, name: string, now?: boolean) =>
  await call<Answer<DestroyResult>>(stack.urls.destroy, { token: stack.tokenFor(email), body: { name, ...(now ? { now } : {}) } });
const restore = async (email: string, name: string, body: Record<string, unknown> = {}) =>
  await call<Answer<Instance>>(`${stack.urls.create}/restore`, { token: stack.tokenFor(email), body: { name, ...body } });
const destroyed = async (email: string, query = '') =>
  await call<Answer<{ destroyed: DestroyedInstance[] }>>(`${stack.urls.list}/destroyed`, {
    token: stack.tokenFor(email),
    method: 'GET',
    query,
  });
const disk = (name: string) => stack.emulator.disks({ project: PROJECT, zone: ZONE }).find((d) => d.name === name);
const leases = async () =>
  (await stack.kubeConfig.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: stack.namespace })).items;
const records = async () =>
  (
    (await stack.kubeConfig
      .makeApiClient(CustomObjectsApi)
      .listNamespacedCustomObject({ group: 'allocator.dev', version: 'v1', plural: 'instances', namespace: stack.namespace })) as {
      items: { metadata: { name: string }; status?: { phase?: string; destroyedAt?: string } }[];
    }
  ).items;
const deployments = async () =>
  (await stack.kubeConfig.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: stack.namespace })).items;

describe('restore after a destroy, against the local control plane and the disks emulator', () => {
  it('keeps the disk on destroy and brings the instance back on the very same disk, with its name, mount name and owner', async () => {
    const made = await create(ada);
    expect(made.status).toBe(201);
    const { name, mountName } = made.body;
    const before = disk(name);

    const gone = await destroy(ada, name);
    expect(gone.status).toBe(200);
    expect(Date.parse(gone.body.restorableUntil ?? '')).toBeGreaterThan(Date.now() + (WINDOW_SECONDS - 60) * 1000);
    expect(await deployments()).toEqual([]);
    expect(await leases()).toEqual([]); // no slot left
    // The record stays, destroyed, with the time the answer's window counts from.
    expect((await records()).map((record) => ({ name: record.metadata.name, status: record.status }))).toEqual([
      {
        name,
        status: {
          phase: 'destroyed',
          destroyedAt: new Date(Date.parse(gone.body.restorableUntil ?? '') - WINDOW_SECONDS * 1000).toISOString(),
        },
      },
    ]);
    expect(disk(name)?.labels?.['allocator-destroyed-at']).toBe(
      String((Date.parse(gone.body.restorableUntil ?? '') - WINDOW_SECONDS * 1000) / 1000),
    );

    // Only the owner (and admins, with all=true) see it; a stranger's restore is the 404 of a missing one.
    expect((await destroyed(ada)).body.destroyed).toEqual([
      { name, owner: ada, mountName, destroyedAt: expect.any(String) as string, restorableUntil: gone.body.restorableUntil },
    ]);
    expect((await destroyed(bob)).body.destroyed).toEqual([]);
    expect((await destroyed(bob, '?all=true')).status).toBe(403);
    expect((await destroyed(ADMIN, '?all=true')).body.destroyed.map((d) => d.name)).toEqual([name]);
    const stranger = await restore(bob, name);
    expect(stranger.status).toBe(404);
    expect(stranger.body.error?.status).toBe('NOT_FOUND');

    const back = await restore(ada, name);
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ name, mountName, owner: ada, disk: name, state: 'ready', readyReplicas: 1 });
    expect(Date.parse(back.body.creationTime)).toBeGreaterThan(Date.parse(made.body.creationTime));
    const after = disk(name);
    expect({ id: after?.id, creationTimestamp: after?.creationTimestamp }).toEqual({
      id: before?.id,
      creationTimestamp: before?.creationTimestamp,
    });
    expect(after?.labels).toEqual(before?.labels); // the destroy's time is cleared
    const held = await leases();
    expect(held.map((lease) => lease.metadata?.labels?.['allocator.dev/instance'])).toEqual([name, name]); // two slots, held for it
    expect((await destroyed(ada)).body.destroyed).toEqual([]);
    expect((await restore(ada, name)).status).toBe(409); // it exists: nothing to restore

    expect((await destroy(ada, name, true)).body).toEqual({ name, destroyed: true });
    expect(diskNames(stack.emulator)).toEqual([]);
    expect(await leases()).toEqual([]);
    expect(await records()).toEqual([]);
  });

  it('restores an instance shared with someone still shared with them; they may not restore it themselves', async () => {
    const { name } = (await create(ada, { wait: false })).body;
    const shared = await call(`${stack.urls.create}/share`, { token: stack.tokenFor(ada), body: { name, emails: [bob] } });
    expect(shared.status).toBe(200);
    await destroy(ada, name);
    expect((await destroyed(bob)).body.destroyed).toEqual([]);
    expect((await restore(bob, name)).status).toBe(404);
    const back = await restore(ada, name, { wait: false });
    expect(back.status).toBe(200);
    expect(back.body.accessList.In).toContain(bob);
    const bobs = await call<{ instances: Instance[] }>(stack.urls.list, { token: stack.tokenFor(bob), method: 'GET' });
    expect(bobs.body.instances.map((i) => i.name)).toEqual([name]);
    await destroy(ada, name, true);
  });

  it('renders a restored instance with the parameters it was made with', async () => {
    const made = await create(ada, { wait: false, parameters: { imageTag: 'pr-7', logLevel: 'debug' } });
    expect(made.status).toBe(201);
    const { name } = made.body;
    const containers = async () => (await deployments()).find((d) => d.metadata?.name === name)?.spec?.template.spec?.containers;
    const before = await containers();
    expect(JSON.stringify(before)).toContain('pr-7');
    await destroy(ada, name);
    expect((await restore(ada, name, { wait: false })).status).toBe(200);
    expect(await containers()).toEqual(before);
    await destroy(ada, name, true);
  });

  it('lets one of two restores of the same name win; the other gets a 409', async () => {
    const { name } = (await create(ada)).body;
    await destroy(ada, name);
    const answers = await Promise.all([restore(ada, name, { wait: false }), restore(ada, name, { wait: false })]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect((await deployments()).map((d) => d.metadata?.name)).toEqual([name]);
    await destroy(ada, name, true);
  });

  it("lets an admin restore anyone's instance, which stays its owner's", async () => {
    const { name } = (await create(bob)).body;
    await destroy(bob, name);
    const back = await restore(ADMIN, name, { wait: false });
    expect(back.status).toBe(200);
    expect(back.body.owner).toBe(bob);
    expect((await destroy(bob, name, true)).status).toBe(200);
  });

  it('has nothing to restore after a destroy with `now`', async () => {
    const { name } = (await create(ada, { wait: false })).body;
    expect((await destroy(ada, name, true)).body).toEqual({ name, destroyed: true });
    expect(disk(name)).toBeUndefined();
    expect((await restore(ada, name)).status).toBe(404);
  });

  it("keeps a destroyed instance's name taken: a create with its Idempotency-Key is a 409", async () => {
    const key = { 'idempotency-key': 'restore-keyed' };
    const first = await create(ada, { wait: false }, key);
    expect(first.status).toBe(201);
    await destroy(ada, first.body.name);
    const again = await create(ada, { wait: false }, key);
    expect(again.status).toBe(409);
    expect(again.body.error?.message).toMatch(/kept for a restore/);
    expect(disk(first.body.name)?.labels?.['allocator-destroyed-at']).toBeDefined();
    await restore(ada, first.body.name, { wait: false });
    await destroy(ada, first.body.name, true);
  });

  it('lets the sweep delete a kept disk and its record once the window has passed; then a restore is a 404', async () => {
    const { name } = (await create(ada, { wait: false })).body;
    await destroy(ada, name);
    const context = await executionContext(stack.runtime, { caller: SWEEPER, report: () => undefined });
    const within = await runSweep(context, { dryRun: false });
    expect(within.orphanDisks).toEqual([]);
    expect(disk(name)).toBeDefined();
    // The same sweep, one window later: only its clock is moved on.
    const later = { now: () => Date.now() + WINDOW_SECONDS * 1000, sleep: context.clock.sleep };
    const past = await runSweep({ ...context, clock: later }, { dryRun: false });
    expect(past.orphanDisks.map((d) => d.name)).toEqual([name]);
    expect(disk(name)).toBeUndefined();
    expect(await leases()).toEqual([]);
    expect(await records()).toEqual([]);
    expect((await restore(ada, name)).status).toBe(404);
    expect((await destroyed(ada)).body.destroyed).toEqual([]);
  });

  it('keeps the disk of an instance the sweep destroys on expiry, for a restore', async () => {
    const { name } = (await create(ada, { wait: false, lifetimeSeconds: 60 })).body;
    const context = await executionContext(stack.runtime, { caller: SWEEPER, report: () => undefined });
    const later = { now: () => Date.now() + 120_000, sleep: context.clock.sleep };
    const swept = await runSweep({ ...context, clock: later }, { dryRun: false });
    expect(swept.expired.map((e) => e.name)).toEqual([name]);
    expect(disk(name)?.labels?.['allocator-destroyed-at']).toBeDefined();
    expect((await destroyed(ada)).body.destroyed.map((d) => d.name)).toEqual([name]);
    expect((await restore(ada, name, { wait: false })).status).toBe(200);
    expect((await destroy(ada, name, true)).status).toBe(200);
  });

  it('leaves nothing behind', async () => {
    expect(await deployments()).toEqual([]);
    expect(await leases()).toEqual([]);
    expect(diskNames(stack.emulator)).toEqual([]);
  });
});
