import { AppsV1Api, CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../shared/errors.ts';
import { destroyInstance } from '../../../shared/executors/destroy.ts';
import { executionContext } from '../../../shared/handlers/execution-context.ts';
import type { Instance } from '../../../shared/instances/instance.ts';
import { ADMIN, call, diskNames, PROJECT, startTestStack, ZONE, type TestStack } from '../stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    prefix: 'operations',
    overrides: {
      ALLOCATOR_MAX_INSTANCES_PER_USER: '1',
      ALLOCATOR_DEFAULT_LIFETIME_SECONDS: '3600',
      ALLOCATOR_MAX_LIFETIME_SECONDS: '86400',
    },
  });
});
afterAll(async () => stack?.stop());

type Answer = Instance & { error?: { code: number; status: string; message: string } };
const op = async (url: string, email: string, body: Record<string, unknown>) =>
  await call<Answer>(url, { token: stack.tokenFor(email), body });
const create = (email: string) => op(stack.urls.create, email, {});
const suspend = (email: string, name: string) => op(`${stack.urls.destroy}/suspend`, email, { name });
const resume = (email: string, name: string, extra: Record<string, unknown> = {}) =>
  op(`${stack.urls.create}/resume`, email, { name, ...extra });
const reset = (email: string, name: string, extra: Record<string, unknown> = {}) =>
  op(`${stack.urls.destroy}/reset`, email, { name, ...extra });
const destroy = (email: string, name: string) => op(stack.urls.destroy, email, { name });
const disk = (name: string) => stack.emulator.disks({ project: PROJECT, zone: ZONE }).find((d) => d.name === name);
const deploymentNames = async () =>
  (await stack.kubeConfig.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: stack.namespace })).items.map(
    (d) => d.metadata?.name ?? '',
  );
const leases = async () =>
  (await stack.kubeConfig.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: stack.namespace })).items;

/** What every concurrent pair must leave: a Deployment only with its disk (in ZONE), and no disk (in any zone), slot or lock without its Deployment. */
async function expectConsistent(): Promise<void> {
  const deployments = await deploymentNames();
  expect(diskNames(stack.emulator)).toEqual([...deployments].sort());
  for (const lease of await leases()) expect(deployments).toContain(lease.metadata?.labels?.['allocator.dev/instance']);
  expect((await leases()).filter((lease) => lease.metadata?.labels?.['allocator.dev/lock'])).toEqual([]);
}

describe('suspend, resume and reset', () => {
  it('suspend keeps the disk and the slot; resume brings the same instance back', async () => {
    const created = await create('sue@example.com');
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ state: 'ready', problems: [] });
    const suspended = await suspend('sue@example.com', created.body.name);
    expect(suspended.status).toBe(200);
    expect(suspended.body).toMatchObject({ name: created.body.name, state: 'suspended', replicas: 0 });
    expect(disk(created.body.name)).toBeDefined();
    // Still counts toward the per-user limit of 1.
    expect((await create('sue@example.com')).body.error).toMatchObject({ code: 429 });

    const resumed = await resume('sue@example.com', created.body.name);
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({
      name: created.body.name,
      mountName: created.body.mountName,
      state: 'ready',
      replicas: 1,
      readyReplicas: 1,
    });
    expect((await destroy('sue@example.com', created.body.name)).status).toBe(200);
    await expectConsistent();
  });

  it('reset gives a fresh disk and keeps name, mount name, owner, access list and expiry', async () => {
    const created = await create('ray@example.com');
    const before = disk(created.body.name);
    const answered = await reset('ray@example.com', created.body.name);
    expect(answered.status).toBe(200);
    const { state, readyReplicas, problems, ...kept } = answered.body;
    expect({ state, readyReplicas, problems }).toEqual({ state: 'ready', readyReplicas: 1, problems: [] });
    const { state: _s, readyReplicas: _r, problems: _p, ...original } = created.body;
    expect(kept).toEqual(original);
    const after = disk(created.body.name);
    expect(after?.id).not.toBe(before?.id);
    expect(after?.labels).toEqual(before?.labels);
    expect((await destroy('ray@example.com', created.body.name)).status).toBe(200);
    await expectConsistent();
  });

  it('answers strangers with the same 404 as destroy, and bad names with 400', async () => {
    const created = await create('own@example.com');
    for (const answer of [
      await suspend('eve@example.com', created.body.name),
      await resume('eve@example.com', created.body.name),
      await reset('eve@example.com', created.body.name),
    ]) {
      expect(answer.status).toBe(404);
      expect(answer.body.error).toMatchObject({ status: 'NOT_FOUND', message: `instance ${created.body.name} not found` });
    }
    expect((await suspend('own@example.com', 'kube-dns')).status).toBe(400);
    expect((await reset('own@example.com', created.body.name, { force: true })).status).toBe(400);
    expect(disk(created.body.name)).toBeDefined();
    expect((await destroy('own@example.com', created.body.name)).status).toBe(200);
  });
});

describe('two operations on one instance at once', () => {
  const pairs: [
    string,
    (name: string) => Promise<{ status: number; body: Answer }>,
    (name: string) => Promise<{ status: number; body: Answer }>,
  ][] = [
    ['a reset and a destroy', (n) => reset('pair@example.com', n), (n) => destroy('pair@example.com', n)],
    ['two resets', (n) => reset('pair@example.com', n), (n) => reset('pair@example.com', n)],
    ['a resume and a suspend', (n) => resume('pair@example.com', n), (n) => suspend('pair@example.com', n)],
    ['a destroy and a reset', (n) => destroy('pair@example.com', n), (n) => reset('pair@example.com', n)],
  ];

  it.each(pairs)('%s end consistent: each succeeds or gets a 409 ABORTED (or a 404 once destroyed)', async (_label, first, second) => {
    const created = await create('pair@example.com');
    expect(created.status).toBe(201);
    const answers = await Promise.all([first(created.body.name), second(created.body.name)]);
    for (const answer of answers) {
      if (answer.status === 409)
        expect(answer.body.error).toMatchObject({
          status: 'ABORTED',
          message: expect.stringMatching(/is in progress; retry when it is done|is being destroyed; it cannot/),
        });
      else expect([200, 404]).toContain(answer.status);
    }
    expect(answers.some((answer) => answer.status === 200)).toBe(true);
    await expectConsistent();
    if ((await deploymentNames()).includes(created.body.name))
      expect((await destroy('pair@example.com', created.body.name)).status).toBe(200);
    await expectConsistent();
    expect(await deploymentNames()).toEqual([]);
  });
});

describe('a destroy racing a re-create of the same name', () => {
  const keyed = async (email: string, key: string): Promise<Answer> => {
    const response = await fetch(stack.urls.create, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.tokenFor(email)}`, 'idempotency-key': key },
      body: '{}',
    });
    expect(response.status).toBe(201);
    return (await response.json()) as Answer;
  };
  const deployment = async (name: string) =>
    (await stack.kubeConfig.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: stack.namespace })).items.find(
      (d) => d.metadata?.name === name,
    );
  const slotsOf = async (name: string) =>
    (await leases())
      .filter((lease) => lease.metadata?.labels?.['allocator.dev/instance'] === name && !lease.metadata?.labels?.['allocator.dev/lock'])
      .map((lease) => ({ name: lease.metadata?.name, uid: lease.metadata?.uid, owner: lease.metadata?.ownerReferences?.[0]?.uid }));

  it('leaves the new instance, its slots and its disk alone when another destroy and a keyed create run between its read and its writes', async () => {
    const email = 'race@example.com';
    const first = await keyed(email, 'race');
    const old = (await deployment(first.name))?.metadata?.uid;
    const context = await executionContext(stack.runtime, {
      caller: { email: ADMIN, subject: '1', kind: 'user' }, // an admin's context: the race is what is tested, not ownership
      report: () => undefined,
    });
    let raced = false;
    let made: { uid?: string; slots: Awaited<ReturnType<typeof slotsOf>>; disk?: string } | undefined;
    const cluster = new Proxy(context.cluster, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        const bound = (value as (...args: unknown[]) => unknown).bind(target);
        if (key !== 'readDeployment') return bound;
        return async (...args: unknown[]) => {
          const answer = await bound(...args);
          if (!raced) {
            raced = true; // after the destroy's read: another destroy, then a create with the same key
            expect((await destroy(email, first.name)).status).toBe(200);
            expect((await keyed(email, 'race')).name).toBe(first.name);
            made = { uid: (await deployment(first.name))?.metadata?.uid, slots: await slotsOf(first.name), disk: disk(first.name)?.id };
          }
          return answer;
        };
      },
    });
    const outcome = await destroyInstance({ ...context, cluster }, { name: first.name }).catch((error: unknown) => error);
    const now = await deployment(first.name);
    expect({ uid: now?.metadata?.uid, slots: await slotsOf(first.name), disk: disk(first.name)?.id }).toEqual(made);
    expect(now?.metadata?.deletionTimestamp).toBeUndefined();
    expect(made?.uid).not.toBe(old);
    expect(made?.slots.length).toBeGreaterThan(0);
    expect(made?.slots.every((slot) => slot.owner === undefined)).toBe(true); // the record holds them; nothing owns them
    expect(outcome).toBeInstanceOf(NotFoundError);
    await expectConsistent();
    expect((await destroy(email, first.name)).status).toBe(200);
    await expectConsistent();
  });
});
