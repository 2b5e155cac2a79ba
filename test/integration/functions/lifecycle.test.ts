import { AppsV1Api, CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../../shared/instances/instance.ts';
import { ADMIN, call, diskNames, PROJECT, startTestStack, ZONE, type TestStack } from '../stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'lifecycle' });
});
afterAll(async () => stack?.stop());

const ada = 'ada@example.com';
const bob = 'bob@example.com';

async function create(email: string, body: unknown = {}) {
  return await call<Instance & { error?: { code: number } }>(stack.urls.create, { token: stack.tokenFor(email), body });
}
async function list(email: string, query = '') {
  return await call<{ instances: Instance[] }>(stack.urls.list, { token: stack.tokenFor(email), method: 'GET', query });
}
async function destroy(email: string, name: string, method = 'POST') {
  return await call(stack.urls.destroy, { token: stack.tokenFor(email), method, body: { name } });
}

describe('create, list and destroy against the local control plane', () => {
  it('gives each user their own instances, and lets the admin see and destroy all of them', async () => {
    const adaFirst = await create(ada);
    expect(adaFirst.status).toBe(201);
    expect(adaFirst.body).toMatchObject({ owner: ada, replicas: 1, readyReplicas: 1, version: 'v1', accessList: { In: [ada, ADMIN] } });
    expect(adaFirst.body.name).toMatch(/^syncbased-[0-9a-f]{8}$/);
    expect(adaFirst.body.mountName).toBe(`/ns.test/allocated/${adaFirst.body.name}`);
    expect(adaFirst.body.disk).toBe(adaFirst.body.name);
    const adaSecond = await create(ada, { wait: false });
    expect(adaSecond.status).toBe(201);
    const bobs = await create(bob);
    expect(bobs.status).toBe(201);

    // The disk exists, labelled with the instance and the owner hash.
    const disk = stack.emulator.disks({ project: PROJECT, zone: ZONE }).find((d) => d.name === adaFirst.body.name);
    expect(disk?.labels).toMatchObject({ allocator: 'syncbased', 'allocator-instance': adaFirst.body.name });
    expect(disk?.labels?.['allocator-owner-hash']).toMatch(/^[0-9a-f]{40}$/);

    const adaList = await list(ada);
    expect(adaList.status).toBe(200);
    expect(adaList.body.instances.map((i) => i.name)).toEqual([adaSecond.body.name, adaFirst.body.name]); // newest first
    expect(adaList.body.instances.every((i) => i.owner === ada)).toBe(true);
    expect((await list(bob)).body.instances.map((i) => i.name)).toEqual([bobs.body.name]);

    // Neither sees nor destroys the other's: the same 404 as for a name that does not exist.
    const bobOnAda = await destroy(bob, adaFirst.body.name);
    expect(bobOnAda.status).toBe(404);
    const missing = await destroy(bob, 'syncbased-00000000');
    expect(missing.status).toBe(404);
    expect(bobOnAda.body.error).toMatchObject({ code: 404, status: 'NOT_FOUND' });
    expect(String((bobOnAda.body.error as { message: string }).message).replace(adaFirst.body.name, 'X')).toBe(
      String((missing.body.error as { message: string }).message).replace('syncbased-00000000', 'X'),
    );
    expect((await list(bob, '?all=true')).status).toBe(403);

    // The admin sees everything and destroys somebody else's instance.
    const all = await list(ADMIN, '?all=true');
    expect(all.body.instances.map((i) => i.name).sort()).toEqual([adaFirst.body.name, adaSecond.body.name, bobs.body.name].sort());
    expect((await list(ADMIN)).body.instances).toEqual([]);
    expect((await destroy(ADMIN, bobs.body.name, 'DELETE')).status).toBe(200);
    expect((await list(bob)).body.instances).toEqual([]);

    // The owner destroys their own; Deployment, pods, disk and slots all go.
    expect((await destroy(ada, adaFirst.body.name)).status).toBe(200);
    expect((await destroy(ada, adaSecond.body.name)).status).toBe(200);
    expect((await destroy(ada, adaSecond.body.name)).status).toBe(404);
    const apps = stack.kubeConfig.makeApiClient(AppsV1Api);
    const coordination = stack.kubeConfig.makeApiClient(CoordinationV1Api);
    expect((await apps.listNamespacedDeployment({ namespace: stack.namespace })).items).toEqual([]);
    expect((await coordination.listNamespacedLease({ namespace: stack.namespace })).items).toEqual([]);
    expect(diskNames(stack.emulator)).toEqual([]);
  });

  it('answers a user over the per-user limit with 429 and frees the slot on destroy', async () => {
    const first = await create('carol@example.com', { wait: false });
    const second = await create('carol@example.com', { wait: false });
    const third = await create('carol@example.com', { wait: false });
    expect([first.status, second.status, third.status]).toEqual([201, 201, 429]);
    expect(third.body.error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    expect((await destroy('carol@example.com', first.body.name)).status).toBe(200);
    const again = await create('carol@example.com', { wait: false });
    expect(again.status).toBe(201);
    for (const name of [second.body.name, again.body.name]) expect((await destroy('carol@example.com', name)).status).toBe(200);
  });

  it('destroys an instance whose disk stays attached for a while, retrying until it is released', async () => {
    const created = await create('dora@example.com', { wait: false });
    const ref = { project: PROJECT, zone: ZONE, name: created.body.name };
    stack.emulator.attachDisk(ref, 'projects/test-project/zones/us-central1-c/instances/gke-node-1');
    setTimeout(() => stack.emulator.detachDisk(ref, 'projects/test-project/zones/us-central1-c/instances/gke-node-1'), 1_500);
    const destroyed = await destroy('dora@example.com', created.body.name);
    expect(destroyed.status).toBe(200);
    expect(stack.emulator.disks().map((d) => d.name)).not.toContain(created.body.name); // in no zone
  });

  it('logs one structured line per request, without the token', async () => {
    const token = stack.tokenFor('eve@example.com');
    const before = stack.logs.length;
    await call(stack.urls.list, { token, method: 'GET' });
    const lines = stack.logs.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      severity: 'INFO',
      function: 'list',
      caller: 'eve@example.com',
      httpRequest: { requestMethod: 'GET', status: 200 },
    });
    expect(stack.logs.join('\n')).not.toContain(token.split('.')[2]);
  });
});
