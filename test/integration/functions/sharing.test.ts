import { AppsV1Api, CoordinationV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../../shared/instances/instance.ts';
import { ownerHashOf } from '../../../shared/instances/naming.ts';
import { ADMIN, call, diskNames, PROJECT, startTestStack, ZONE, type TestStack } from '../stack.ts';
import { eventually } from '../support.ts';

const USERS = Array.from({ length: 20 }, (_, i) => `user${i}@example.com`);
const [ada, bea, cy, hal] = ['ada@example.com', 'bea@example.com', 'cy@example.com', 'hal@example.com'];

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    prefix: 'sharing',
    overrides: {
      ALLOCATOR_ALLOWED_CALLERS: [ada, bea, cy, hal, ...USERS].join(','),
      ALLOCATOR_MAX_INSTANCES_PER_USER: '3',
      ALLOCATOR_MAX_INSTANCES: '30',
      ALLOCATOR_MAX_COLLABORATORS: '2',
      // No grace: the sweep test below may treat a slot made a moment ago as left behind.
      ALLOCATOR_ORPHAN_GRACE_SECONDS: '0',
    },
  });
});
afterAll(async () => stack?.stop());

type Answer = Instance & { error?: { code: number; status: string; message: string } };
const op = async (url: string, email: string, body: Record<string, unknown>) =>
  await call<Answer>(url, { token: stack.tokenFor(email), body });
const create = (email: string) => op(stack.urls.create, email, { wait: false });
const share = (email: string, name: string, emails: string[]) => op(`${stack.urls.create}/share`, email, { name, emails });
const unshare = (email: string, name: string, emails: string[]) => op(`${stack.urls.create}/unshare`, email, { name, emails });
const transfer = (email: string, name: string, to: string) => op(`${stack.urls.create}/transfer`, email, { name, to });
const list = async (email: string) =>
  (await call<{ instances: Answer[] }>(stack.urls.list, { token: stack.tokenFor(email), method: 'GET' })).body.instances;
const apps = () => stack.kubeConfig.makeApiClient(AppsV1Api);
const deployment = (name: string) => apps().readNamespacedDeployment({ name, namespace: stack.namespace });
const record = async (name: string) =>
  (await stack.kubeConfig
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ group: 'allocator.dev', version: 'v1', plural: 'instances', namespace: stack.namespace, name })) as {
    spec: { creator?: string; owner: { email: string } };
    status: { previousOwner?: string };
  };
const userSlots = async (name?: string) =>
  (await stack.kubeConfig.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: stack.namespace })).items.filter(
    (lease) =>
      lease.metadata?.labels?.['allocator.dev/slot'] === 'user' &&
      (name === undefined || lease.metadata.labels['allocator.dev/instance'] === name),
  );
const accessListArg = async (name: string) =>
  (await deployment(name)).spec?.template?.spec?.containers[0]?.command?.find((arg) => arg.startsWith('--v23.permissions.literal'));

async function destroyAll(): Promise<void> {
  const all = await call<{ instances: { name: string }[] }>(stack.urls.list, {
    token: stack.tokenFor(ADMIN),
    method: 'GET',
    query: '?all=true',
  });
  await Promise.all(all.body.instances.map((i) => call(stack.urls.destroy, { token: stack.tokenFor(ADMIN), body: { name: i.name } })));
}

/** Nothing of an instance left: no Deployment, disk or slot. */
async function expectNothingLeft(): Promise<void> {
  expect((await apps().listNamespacedDeployment({ namespace: stack.namespace })).items).toEqual([]);
  expect(diskNames(stack.emulator)).toEqual([]);
  expect((await stack.kubeConfig.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: stack.namespace })).items).toEqual([]);
}

describe('share and unshare against the local control plane', () => {
  it('lets collaborators in: on the access list, in their own list, allowed to extend, suspend and resume; the pod restarts and the disk stays', async () => {
    const created = await create(ada);
    expect(created.status).toBe(201);
    const { name } = created.body;
    const diskBefore = stack.emulator.disks({ project: PROJECT, zone: ZONE }).find((d) => d.name === name);
    const generation = (await deployment(name)).metadata?.generation ?? 0;

    const shared = await share(ada, name, [bea, 'CY@example.com']);
    expect(shared.status).toBe(200);
    expect(shared.body).toMatchObject({ owner: ada, collaborators: [bea, cy], accessList: { In: [ada, bea, cy, ADMIN] } });
    expect(await accessListArg(name)).toContain(JSON.stringify({ In: [ada, bea, cy, ADMIN] }));
    // The template changed, so the Deployment rolls its pod; the disk is the same one.
    expect((await deployment(name)).metadata?.generation).toBeGreaterThan(generation);
    const diskAfter = stack.emulator.disks({ project: PROJECT, zone: ZONE }).find((d) => d.name === name);
    expect(diskAfter?.id).toBe(diskBefore?.id);

    expect(await list(bea)).toEqual([expect.objectContaining({ name, owner: ada, sharedWithMe: true })]);
    expect(await list(ada)).toEqual([expect.objectContaining({ name, sharedWithMe: false, collaborators: [bea, cy] })]);
    expect((await op(`${stack.urls.create}/extend`, bea, { name, lifetimeSeconds: 600 })).status).toBe(200);
    expect((await op(`${stack.urls.destroy}/suspend`, bea, { name })).body).toMatchObject({ state: 'suspended' });
    expect((await op(`${stack.urls.create}/resume`, cy, { name, wait: false })).status).toBe(200);

    // Only the owner or an admin destroys, resets, shares, unshares or transfers it.
    for (const [url, body] of [
      [stack.urls.destroy, { name }],
      [`${stack.urls.destroy}/reset`, { name, wait: false }],
      [`${stack.urls.create}/share`, { name, emails: [hal] }],
      [`${stack.urls.create}/unshare`, { name, emails: [cy] }],
      [`${stack.urls.create}/transfer`, { name, to: bea }],
    ] as const) {
      expect((await op(url, bea, body)).body.error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED' });
    }
    // A stranger gets the 404 of an instance that does not exist.
    const stranger = await op(`${stack.urls.create}/extend`, hal, { name });
    const missing = await op(`${stack.urls.create}/extend`, hal, { name: 'syncbased-00000000' });
    expect(stranger.status).toBe(404);
    expect(stranger.body.error?.message.replace(name, 'X')).toBe(missing.body.error?.message.replace('syncbased-00000000', 'X'));
    expect(await list(hal)).toEqual([]);

    // The refusals: a 400 each, naming what is wrong, and nothing changes.
    expect((await share(ada, name, [ada])).body.error).toMatchObject({ code: 400, message: expect.stringContaining(`${ada} owns`) });
    expect((await share(ada, name, ['eve@elsewhere.test'])).body.error).toMatchObject({
      code: 400,
      message: expect.stringContaining('eve@elsewhere.test may not use this allocator'),
    });
    expect((await share(ada, name, [hal])).body.error).toMatchObject({ code: 400, message: expect.stringContaining('at most 2 people') });
    expect((await share(ada, name, [])).body.error).toMatchObject({ code: 400 });

    // Unsharing someone it was not shared with is harmless; unshared, they no longer see it.
    expect((await unshare(ada, name, [hal])).body.collaborators).toEqual([bea, cy]);
    expect((await unshare(ada, name, [bea])).body).toMatchObject({ collaborators: [cy], accessList: { In: [ada, cy, ADMIN] } });
    expect(await list(bea)).toEqual([]);
    expect((await op(`${stack.urls.create}/extend`, bea, { name })).status).toBe(404);
    // An admin may share anyone's.
    expect((await share(ADMIN, name, [bea])).body.collaborators).toEqual([cy, bea]);

    await destroyAll();
    await expectNothingLeft();
  });
});

describe('transfer against the local control plane', () => {
  it('moves the owner and the slot, keeps the creator, answers a retry, and refuses one over the limit with the usual 429', async () => {
    const { name } = (await create(ada)).body;
    const moved = await transfer(ada, name, bea);
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ name, owner: bea, accessList: { In: [bea, ADMIN] } });
    const annotations = (await deployment(name)).metadata?.annotations ?? {};
    // Who made it and who had it are the record's; the Deployment keeps neither.
    expect(await record(name)).toMatchObject({ spec: { creator: ada, owner: { email: bea } }, status: { previousOwner: ada } });
    expect(Object.keys(annotations).filter((key) => /creator|previous-owner/.test(key))).toEqual(['v.io/creator-info']);
    expect(JSON.parse(annotations['v.io/creator-info'] ?? '{}')).toMatchObject({ email: ada });
    expect((await userSlots(name)).map((lease) => lease.metadata?.labels?.['allocator.dev/owner-hash'])).toEqual([ownerHashOf(bea)]);
    expect((await list(ada)).map((i) => i.name)).toEqual([]);
    expect((await list(bea)).map((i) => i.name)).toEqual([name]);
    // The old owner's retry (as after a lost answer) is answered, and changes nothing.
    expect((await transfer(ada, name, bea)).body).toMatchObject({ owner: bea });
    expect(await userSlots(name)).toHaveLength(1);
    // Transferring to yourself is a 400; the new owner's first call pins their account id.
    expect((await transfer(bea, name, bea)).body.error).toMatchObject({ code: 400 });
    expect((await deployment(name)).metadata?.annotations?.['allocator.dev/owner-sub']).toMatch(/^\d+$/);

    // Cy at their limit of 3: the usual 429, in their words, and nothing changes.
    await Promise.all([0, 1, 2].map(() => create(cy)));
    const refused = await transfer(bea, name, cy);
    expect(refused.status).toBe(429);
    expect(refused.body.error?.message).toMatch(/^cy@example.com already has 3 instances, the most allowed per user/);
    expect((await deployment(name)).metadata?.annotations?.['allocator.dev/owner']).toBe(bea);
    expect(await userSlots(name)).toHaveLength(1);

    await destroyAll();
    await expectNothingLeft();
  });

  it('gives exactly 3 of 20 concurrent transfers into one user with a limit of 3; every other instance keeps its old owner', async () => {
    const names = await Promise.all(
      USERS.map(async (email) => {
        const created = await create(email);
        expect(created.status).toBe(201);
        return created.body.name;
      }),
    );
    const answers = await Promise.all(names.map((name, i) => transfer(USERS[i] as string, name, hal)));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(17);
    const owners = await Promise.all(names.map(async (name) => (await deployment(name)).metadata?.annotations?.['allocator.dev/owner']));
    names.forEach((_name, i) => expect(owners[i]).toBe(answers[i]?.status === 200 ? hal : USERS[i]));
    // Hal holds exactly 3 slots; each instance holds exactly one per-user slot, its owner's.
    const slots = await userSlots();
    expect(slots.filter((lease) => lease.metadata?.labels?.['allocator.dev/owner-hash'] === ownerHashOf(hal))).toHaveLength(3);
    for (const [i, name] of names.entries()) {
      const held = slots.filter((lease) => lease.metadata?.labels?.['allocator.dev/instance'] === name);
      expect(held.map((lease) => lease.metadata?.labels?.['allocator.dev/owner-hash'])).toEqual([ownerHashOf(owners[i] ?? '')]);
    }
    expect((await list(hal)).map((i) => i.name).sort()).toEqual(names.filter((_n, i) => answers[i]?.status === 200).sort());

    // The sweep finds nothing to repair.
    const swept = await call<{ orphanSlots: unknown[]; failed: unknown[] }>(`${stack.urls.destroy}/sweep`, {
      token: stack.tokenFor(ADMIN),
      body: {},
    });
    expect(swept.body).toMatchObject({ orphanSlots: [], failed: [] });
    await destroyAll();
    await eventually(async () => (await apps().listNamespacedDeployment({ namespace: stack.namespace })).items.length === 0);
    await expectNothingLeft();
  });
});

describe("the sweep's repair of a transfer interrupted between its steps", () => {
  it("lets go of a per-user slot of an owner the instance does not have, and keeps the owner's", async () => {
    const { name } = (await create(ada)).body;
    const coordination = stack.kubeConfig.makeApiClient(CoordinationV1Api);
    // What a transfer to Bea leaves if it dies after claiming her slot, before the Deployment's patch.
    const stray = `syncbased-u-${ownerHashOf(bea)}-0`;
    await coordination.createNamespacedLease({
      namespace: stack.namespace,
      body: {
        metadata: {
          name: stray,
          labels: {
            'allocator.dev/allocator': 'syncbased',
            'allocator.dev/slot': 'user',
            'allocator.dev/owner-hash': ownerHashOf(bea),
            'allocator.dev/instance': name,
          },
        },
        spec: { holderIdentity: `${name}/transfer-crashed` },
      },
    });
    const swept = await call<{ orphanSlots: unknown[]; failed: unknown[] }>(`${stack.urls.destroy}/sweep`, {
      token: stack.tokenFor(ADMIN),
      body: {},
    });
    expect(swept.body).toMatchObject({ orphanSlots: [{ name: stray, instance: name, ownerHash: ownerHashOf(bea) }], failed: [] });
    expect((await userSlots(name)).map((lease) => lease.metadata?.labels?.['allocator.dev/owner-hash'])).toEqual([ownerHashOf(ada)]);
    // Bea's limit is hers again: the retry of the transfer takes the same slot name.
    expect((await transfer(ada, name, bea)).status).toBe(200);
    expect((await userSlots(name)).map((lease) => lease.metadata?.name)).toEqual([stray]);
    await destroyAll();
    await expectNothingLeft();
  });
});
