import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllocatorApiError, AllocatorClient } from '../../../client/index.ts';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { call, startTestStack, type TestStack } from '../stack.ts';
import { eventually } from '../support.ts';

let stack: TestStack;
let gateway: Gateway;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'client' });
  gateway = await startGateway();
  for (const name of ['create', 'destroy', 'list'] as const) gateway.route(`/syncbase-${name}`, stack.urls[name]);
});
afterAll(async () => {
  await gateway?.stop();
  await stack?.stop();
});

const clientFor = (email: string): AllocatorClient =>
  new AllocatorClient({ allocator: gateway.allocatorFor('syncbase'), auth: stack.tokenFor(email), retry: { baseDelayMs: 50 } });

const createRequests = (): number => stack.logs.filter((line) => (JSON.parse(line) as { function: string }).function === 'create').length;

describe('the typed client', () => {
  it('creates, lists and destroys with typed values', async () => {
    const client = clientFor('pat@example.com');
    const instance = await client.create();
    expect(instance).toMatchObject({ owner: 'pat@example.com', readyReplicas: 1 });
    expect((await client.list()).map((i) => i.name)).toEqual([instance.name]);
    await client.destroy(instance.name);
    expect(await client.list()).toEqual([]);
  });

  it("throws typed errors carrying the status and the server's error", async () => {
    const error = await clientFor('pat@example.com')
      .destroy('syncbased-00000000')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AllocatorApiError);
    expect(error).toMatchObject({ status: 404, code: 'NOT_FOUND', body: { error: { code: 404, status: 'NOT_FOUND' } } });
  });

  it('retries a create whose response was dropped, and gets one instance, not two', async () => {
    const client = clientFor('quinn@example.com');
    gateway.dropNextResponses('/syncbase-create', 1);
    const before = createRequests();
    const instance = await client.create({ wait: false });
    expect(createRequests() - before).toBe(2); // the dropped one did its work, the retry replayed it
    expect((await client.list()).map((i) => i.name)).toEqual([instance.name]);
    await client.destroy(instance.name);
  });

  it('retries through a Compute Engine outage the server answers with 503', async () => {
    stack.emulator.injectFault({ method: 'disks.insert', status: 503, count: 2 });
    const client = new AllocatorClient({
      allocator: gateway.allocatorFor('syncbase'),
      auth: stack.tokenFor('rae@example.com'),
      retry: { baseDelayMs: 50, attempts: 6 },
    });
    const instance = await client.create({ wait: false });
    expect((await client.list()).map((i) => i.name)).toEqual([instance.name]);
    await client.destroy(instance.name);
  });

  it('gives up after its attempts with the last error', async () => {
    stack.emulator.injectFault({ method: 'disks.insert', status: 503, count: 100 });
    try {
      const client = new AllocatorClient({
        allocator: gateway.allocatorFor('syncbase'),
        auth: stack.tokenFor('sal@example.com'),
        retry: { baseDelayMs: 10, attempts: 2 },
      });
      await expect(client.create({ wait: false })).rejects.toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    } finally {
      stack.emulator.clearFaults();
    }
  });
});

describe("the client's lifecycle calls", () => {
  it('suspends, resumes and resets, each answering the instance', async () => {
    const client = clientFor('ivy@example.com');
    const instance = await client.create();
    expect(await client.suspend(instance.name)).toMatchObject({ name: instance.name, state: 'suspended' });
    expect(await client.resume(instance.name)).toMatchObject({ name: instance.name, state: 'ready', readyReplicas: 1 });
    expect(await client.reset(instance.name, { waitTimeoutSeconds: 30 })).toMatchObject({
      name: instance.name,
      mountName: instance.mountName,
      state: 'ready',
    });
    await client.destroy(instance.name);
  });

  it('holds a lease that renews itself until released', async () => {
    const client = clientFor('lea@example.com');
    const lease = await client.lease({ leaseSeconds: 3 });
    const firstExpiry = Date.parse(lease.instance.expiresAt ?? '');
    // Renewed each second: the expiry moves on, however long a renewal takes here.
    await eventually(async () => Date.parse((await client.list())[0]?.expiresAt ?? '') > firstExpiry, 10_000, 'a renewal');
    await lease.release();
    expect(await client.list()).toEqual([]);
  });
});

describe('Idempotency-Key on create', () => {
  const create = (email: string, key: string) =>
    fetch(stack.urls.create, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.tokenFor(email)}`, 'idempotency-key': key },
      body: '{"wait": false}',
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { name: string } }));

  it('answers a repeated key with the same instance, per caller', async () => {
    const first = await create('tom@example.com', 'key-1');
    const again = await create('tom@example.com', 'key-1');
    const otherCaller = await create('uma@example.com', 'key-1');
    expect([first.status, again.status, otherCaller.status]).toEqual([201, 201, 201]);
    expect(again.body.name).toBe(first.body.name);
    expect(otherCaller.body.name).not.toBe(first.body.name);
    for (const [email, name] of [
      ['tom@example.com', first.body.name],
      ['uma@example.com', otherCaller.body.name],
    ] as const) {
      expect((await call(stack.urls.destroy, { token: stack.tokenFor(email), body: { name } })).status).toBe(200);
    }
  });

  it('refuses a malformed key', async () => {
    expect((await create('tom@example.com', 'has spaces')).status).toBe(400);
  });
});

describe("the client's sharing calls", () => {
  it('shares, unshares and transfers, each answering the instance; a transfer over the limit is a typed 429', async () => {
    const owner = clientFor('rey@example.com');
    const instance = await owner.create({ wait: false });
    expect(await owner.share(instance.name, ['sam@example.com'])).toMatchObject({ collaborators: ['sam@example.com'] });
    expect(await clientFor('sam@example.com').list()).toEqual([expect.objectContaining({ name: instance.name, sharedWithMe: true })]);
    expect(await owner.unshare(instance.name, ['sam@example.com'])).toMatchObject({ collaborators: [] });
    // Sam at the per-user limit of 2.
    const sams = await Promise.all([0, 1].map(() => clientFor('sam@example.com').create({ wait: false })));
    const error = await owner.transfer(instance.name, 'sam@example.com').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AllocatorApiError);
    expect(error).toMatchObject({ status: 429, code: 'RESOURCE_EXHAUSTED' });
    for (const own of sams) await clientFor('sam@example.com').destroy(own.name);
    expect(await owner.transfer(instance.name, 'sam@example.com')).toMatchObject({ owner: 'sam@example.com' });
    await clientFor('sam@example.com').destroy(instance.name);
  });
});
