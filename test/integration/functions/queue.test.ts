import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CoordinationV1Api, CustomObjectsApi, Watch, type V1Lease } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AllocatorClient, type Instance, type QueuePosition } from '../../../client/index.ts';
import { LABELS, QUEUED_LABEL } from '../../../shared/instances/metadata.ts';
import { parseRecord, RECORD_RESOURCE, type InstanceRecord } from '../../../shared/model/record.ts';
import { placeOf } from '../../../shared/plans/queue.ts';
import { SLOT_LABEL } from '../../../shared/plans/slots.ts';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { ADMIN, call, startTestStack, type TestStack } from '../stack.ts';
import { eventually } from '../support.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** With the stack's 60 s readiness wait and the 20 s margin, each request of a queued create waits 3 s. */
const CREATE_TIMEOUT_SECONDS = 83;
const TICKET_SECONDS = 4;

let stack: TestStack;
let gateway: Gateway;
beforeAll(async () => {
  stack = await startTestStack({
    prefix: 'queue',
    overrides: {
      ALLOCATOR_MAX_INSTANCES: '2',
      ALLOCATOR_MAX_INSTANCES_PER_USER: '2',
      ALLOCATOR_CREATE_TIMEOUT_SECONDS: String(CREATE_TIMEOUT_SECONDS),
      ALLOCATOR_QUEUE_TICKET_SECONDS: String(TICKET_SECONDS),
    },
  });
  gateway = await startGateway();
  for (const name of ['create', 'destroy', 'list'] as const) gateway.route(`/syncbase-${name}`, stack.urls[name]);
});
afterAll(async () => {
  await gateway?.stop();
  await stack?.stop();
});
afterEach(async () => {
  await destroyAll();
  await Promise.all(
    (await inLine()).map((record) =>
      records().deleteNamespacedCustomObject({ ...RECORD_RESOURCE, namespace: stack.namespace, name: record.metadata.name }),
    ),
  );
});

const leases = (): CoordinationV1Api => stack.kubeConfig.makeApiClient(CoordinationV1Api);
const records = (): CustomObjectsApi => stack.kubeConfig.makeApiClient(CustomObjectsApi);

/** The line: the records in phase queued, as the API server has them. */
async function inLine(): Promise<InstanceRecord[]> {
  const list = (await records().listNamespacedCustomObject({
    ...RECORD_RESOURCE,
    namespace: stack.namespace,
    labelSelector: QUEUED_LABEL,
  })) as { items: unknown[] };
  return list.items.map(parseRecord).filter((record) => record.status.phase === 'queued');
}

async function globalSlots(): Promise<V1Lease[]> {
  return (await leases().listNamespacedLease({ namespace: stack.namespace, labelSelector: `${SLOT_LABEL}=global` })).items;
}

async function destroyAll(): Promise<void> {
  const all = await call<{ instances: { name: string }[] }>(stack.urls.list, {
    token: stack.tokenFor(ADMIN),
    method: 'GET',
    query: '?all=true',
  });
  await Promise.all(all.body.instances.map((i) => call(stack.urls.destroy, { token: stack.tokenFor(ADMIN), body: { name: i.name } })));
}

const clientFor = (email: string): AllocatorClient =>
  new AllocatorClient({ allocator: gateway.allocatorFor('syncbase'), auth: stack.tokenFor(email), retry: { baseDelayMs: 50 } });

interface ErrorAnswer {
  error: { code: number; status: string; message: string; details: { metadata: Record<string, string> }[] };
}

/** A create sent as is, with headers: the answers the client would otherwise handle. */
async function rawCreate(
  email: string,
  body: object,
  key?: string,
): Promise<{ status: number; body: ErrorAnswer & Instance; retryAfter: string | null }> {
  const response = await fetch(stack.urls.create, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stack.tokenFor(email)}`,
      'content-type': 'application/json',
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as ErrorAnswer & Instance,
    retryAfter: response.headers.get('retry-after'),
  };
}

/** Fills the global limit (2) with `email`'s instances. */
async function fill(email = 'full@example.com'): Promise<Instance[]> {
  const client = clientFor(email);
  return await Promise.all([client.create({ wait: false }), client.create({ wait: false })]);
}

/**
 * Follows the global slots as they are claimed and let go: the order of claims, by instance, and the most held at once.
 * Answers once the watch is open, so that no claim is missed, or replayed out of order.
 */
async function followSlots(): Promise<{
  claims: { instance: string; atMs: number }[];
  freed: { instance: string; atMs: number }[];
  max: () => number;
  stop: () => void;
}> {
  const held = new Set<string>();
  const claims: { instance: string; atMs: number }[] = [];
  const freed: { instance: string; atMs: number }[] = [];
  let max = 0;
  const controller = await new Watch(stack.kubeConfig).watch(
    `/apis/coordination.k8s.io/v1/namespaces/${stack.namespace}/leases`,
    { labelSelector: `${SLOT_LABEL}=global` },
    (type: string, lease: V1Lease) => {
      const name = lease.metadata?.name ?? '';
      const instance = lease.metadata?.labels?.[LABELS.instance] ?? '';
      if (type === 'ADDED') {
        held.add(name);
        claims.push({ instance, atMs: Date.now() });
        max = Math.max(max, held.size);
      }
      if (type === 'DELETED') {
        held.delete(name);
        freed.push({ instance, atMs: Date.now() });
      }
    },
    () => undefined,
  );
  return { claims, freed, max: () => max, stop: () => controller.abort() };
}

describe('a create that does not queue', () => {
  it('answers 429 at the limit as before, and takes no place in line', async () => {
    await fill();
    const answer = await rawCreate('late@example.com', { wait: false }, 'no-queue-1');
    expect(answer.status).toBe(429);
    expect(answer.body.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(await inLine()).toEqual([]);
  });

  it('may not queue without an Idempotency-Key, which keeps its place', async () => {
    const answer = await rawCreate('late@example.com', { wait: false, queue: true });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/"queue" needs an Idempotency-Key/);
  });
});

describe('a queued create', () => {
  it('answers its place with 409 ABORTED, Retry-After and an ErrorInfo; a re-send keeps the place; places in line count toward no limit', async () => {
    const full = await fill();
    const first = await rawCreate('ann@example.com', { wait: false, queue: true }, 'place-a');
    expect(first).toMatchObject({ status: 409, retryAfter: '1' });
    expect(first.body.error).toMatchObject({
      code: 409,
      status: 'ABORTED',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'QUEUED',
          domain: 'allocator.dev',
          metadata: { position: '1', ahead: '0' },
        },
      ],
    });
    const second = await rawCreate('bob@example.com', { wait: false, queue: true }, 'place-b');
    expect(second.body.error.details[0]?.metadata).toEqual({ position: '2', ahead: '1' });
    // Sent again, the first waits its bound and answers the same place: its record is the one it made.
    const again = await rawCreate('ann@example.com', { wait: false, queue: true }, 'place-a');
    expect(again.body.error.details[0]?.metadata).toEqual({ position: '1', ahead: '0' });
    expect((await inLine()).map((r) => r.spec.owner.email).sort()).toEqual(['ann@example.com', 'bob@example.com']);
    expect((await globalSlots()).map((s) => s.metadata?.labels?.[LABELS.instance]).sort()).toEqual(full.map((i) => i.name).sort());

    // A slot frees: the first in line gets it, and its record leaves the line (it is the instance's now).
    await clientFor('full@example.com').destroy(full[0]!.name);
    const served = await rawCreate('ann@example.com', { wait: false, queue: true }, 'place-a');
    expect(served.status).toBe(201);
    expect(served.body.owner).toBe('ann@example.com');
    expect((await inLine()).map((r) => r.spec.owner.email)).toEqual(['bob@example.com']);
  });

  it('gives up past its queue timeout: a 504, and its record goes', async () => {
    await fill();
    const queued = await rawCreate('cat@example.com', { wait: false, queue: true, queueTimeoutSeconds: 1 }, 'impatient');
    expect(queued.status).toBe(409);
    expect(await inLine()).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const gaveUp = await rawCreate('cat@example.com', { wait: false, queue: true, queueTimeoutSeconds: 1 }, 'impatient');
    expect(gaveUp.status).toBe(504);
    expect(gaveUp.body.error).toMatchObject({
      status: 'DEADLINE_EXCEEDED',
      message: expect.stringMatching(/its place in line was given up/),
    });
    expect(await inLine()).toEqual([]);
  });

  it('hands its record to a request re-sent while it still waits: the older one stops, the place stays', async () => {
    await fill();
    expect((await rawCreate('eve@example.com', { wait: false, queue: true }, 'twice')).status).toBe(409);
    const older = rawCreate('eve@example.com', { wait: false, queue: true }, 'twice');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const newer = await rawCreate('eve@example.com', { wait: false, queue: true }, 'twice');
    const replaced = await older;
    expect(replaced.status).toBe(409);
    expect(replaced.body.error).toMatchObject({
      status: 'ABORTED',
      message: expect.stringMatching(/another request with this Idempotency-Key/),
    });
    expect(replaced.body.error).not.toHaveProperty('details');
    expect(newer.body.error.details[0]?.metadata).toEqual({ position: '1', ahead: '0' });
    expect(await inLine()).toHaveLength(1);
  });

  it('stops renewing its record when its caller hangs up mid-wait', async () => {
    await fill();
    expect((await rawCreate('dan@example.com', { wait: false, queue: true }, 'hang-up')).status).toBe(409);
    const dansRequests = (): number => stack.logs.filter((line) => line.includes('"caller":"dan@example.com"')).length;
    const answeredBefore = dansRequests();
    const hangUp = new AbortController();
    const waiting = fetch(stack.urls.create, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stack.tokenFor('dan@example.com')}`,
        'content-type': 'application/json',
        'idempotency-key': 'hang-up',
      },
      body: JSON.stringify({ wait: false, queue: true }),
      signal: hangUp.signal,
    }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    hangUp.abort();
    await waiting;
    // The handler logs the request once it has stopped waiting: from then on nothing renews the record.
    await eventually(async () => dansRequests() > answeredBefore, 30_000, 'the hung-up request to end');
    const renewed = async (): Promise<number> => placeOf((await inLine())[0]!).deadlineMs;
    const before = await renewed();
    // Left waiting, the request would renew every third of the record's 4 s, within its 3 s bound.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await renewed()).toBe(before);
  });

  it('serves 12 creates of 4 users, started 200 ms apart, in the order they started, never above the limit of 2', async () => {
    const slots = await followSlots();
    const places = new Map<number, QueuePosition[]>();
    const answered: number[] = [];
    const names = new Map<string, number>();
    try {
      await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          await new Promise((resolve) => setTimeout(resolve, 200 * i));
          const client = clientFor(`user${i % 4}@example.com`);
          const instance = await client.create({
            queue: true,
            idempotencyKey: `fair-${i}`,
            onQueued: (place) => places.set(i, [...(places.get(i) ?? []), place]),
          });
          names.set(instance.name, i);
          answered.push(i);
          expect(instance.readyReplicas).toBe(1);
          await new Promise((resolve) => setTimeout(resolve, 2_000));
          await client.destroy(instance.name);
        }),
      );
    } finally {
      slots.stop();
    }
    const claimOrder = slots.claims.map((claim) => names.get(claim.instance));
    console.log(
      `queue fairness: claims in order ${claimOrder.join(' ')}; answers in order ${answered.join(' ')}; most slots held at once ${slots.max()}`,
    );
    console.log(
      `queue fairness: first place each was told: ${[...places]
        .sort(([a], [b]) => a - b)
        .map(([i, p]) => `${i}:${p[0]?.position}`)
        .join(' ')}`,
    );
    // Fairness is the order of the claims; answers follow each claim by the time its instance takes to start, which varies.
    expect(claimOrder).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(slots.max()).toBe(2);
    expect(places.size).toBeGreaterThanOrEqual(10); // all but the first two waited in line, and were told their place
    expect(await inLine()).toEqual([]);
  }, 180_000);
});

/** The CLI as a child process (by default `create --queue --no-wait`), its output followed. */
function cliWaiter(
  email: string,
  args = ['create', '--queue', '--no-wait'],
): { child: ChildProcess; stderr: () => string; stdout: () => string; exit: Promise<number | null> } {
  let stderr = '';
  let stdout = '';
  const child = spawn(process.execPath, ['cli/bin.ts', ...args], {
    cwd: ROOT,
    env: {
      PATH: '/usr/bin:/bin',
      HOME: '/nonexistent',
      METADATA_SERVER_DETECTION: 'none',
      ALLOCATOR: gateway.allocatorFor('syncbase'),
      ALLOCATOR_TOKEN: stack.tokenFor(email),
    },
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, stdout: () => stdout, exit };
}

describe('the CLI in line', () => {
  it("'run' queues by default, shows its place, and runs the command once a slot frees", async () => {
    const full = await fill();
    const run = cliWaiter('runner@example.com', ['run', '--', 'sh', '-c', 'echo "ran on $ALLOCATOR_INSTANCE_NAME"']);
    await eventually(async () => run.stderr().includes('queued: 1st in line (0 ahead of you)'), 20_000, 'run queued');
    await clientFor('full@example.com').destroy(full[0]!.name);
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toMatch(/^ran on syncbased-[0-9a-f]+$/m);
    expect(await inLine()).toEqual([]);
  }, 60_000);

  it("'run --no-queue' fails at the limit as before, taking no place in line", async () => {
    await fill();
    const run = cliWaiter('runner@example.com', ['run', '--no-queue', '--', 'true']);
    expect(await run.exit).toBe(1);
    expect(run.stderr()).toMatch(/the most allowed|its limit/);
    expect(await inLine()).toEqual([]);
  }, 30_000);

  it("'create --queue --queue-timeout' gives up, and its record goes", async () => {
    await fill();
    const create = cliWaiter('runner@example.com', ['create', '--queue', '--queue-timeout', '1']);
    expect(await create.exit).toBe(1);
    expect(create.stderr()).toMatch(/queued: 1st in line[\s\S]*no slot came free within 1 s in the queue/);
    expect(await inLine()).toEqual([]);
  }, 30_000);

  it.each([
    [['create', '--queue-timeout', '5'], /--queue-timeout needs the queue/],
    [['create', '--queue', '--no-queue'], /contradict/],
    [['run', '--queue-timeout', 'soon', '--', 'true'], /--queue-timeout takes a whole number of seconds/],
  ])('refuses %j as bad usage', async (args, message) => {
    const cli = cliWaiter('runner@example.com', args);
    expect(await cli.exit).toBe(2);
    expect(cli.stderr()).toMatch(message);
  });
});

describe('a waiter killed with SIGKILL', () => {
  it('holds up the queue only until its record, no longer renewed, dies; the next waiter then removes it', async () => {
    const full = await fill();
    const killed = cliWaiter('killed@example.com');
    await eventually(async () => killed.stderr().includes('queued: 1st in line (0 ahead of you)'), 20_000, 'the CLI queued');
    const slots = await followSlots();
    const next = clientFor('next@example.com').create({ queue: true, idempotencyKey: 'after-the-killed', wait: false });
    await eventually(async () => (await inLine()).length === 2, 20_000, 'the second place in line');
    killed.child.kill('SIGKILL');
    await new Promise((resolve) => killed.child.once('exit', resolve));
    // Its hang-up reaches the function: its waiter stops renewing, so the deadline it has now is its last.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const dead = (await inLine()).find((record) => record.spec.owner.email === 'killed@example.com');
    expect(dead).toBeDefined();
    const diedAt = placeOf(dead!).deadlineMs;
    await clientFor('full@example.com').destroy(full[0]!.name);
    const served = await next;
    slots.stop();

    const freedAt = slots.freed.find((f) => f.instance === full[0]!.name)?.atMs ?? Number.NaN;
    const claimedAt = slots.claims.find((c) => c.instance === served.name)?.atMs ?? Number.NaN;
    console.log(
      `killed waiter: slot freed ${freedAt - diedAt} ms relative to its record's death; the next waiter claimed ${claimedAt - freedAt} ms after the slot freed (lease ${TICKET_SECONDS * 1000} ms)`,
    );
    expect(claimedAt).toBeGreaterThanOrEqual(diedAt); // it held its place while live...
    expect(served.owner).toBe('next@example.com'); // ...and then the next in line got the slot
    expect(await clientFor('killed@example.com').list()).toEqual([]);
    // The waiter that passed it over removed it: nothing is left in line, and the sweep finds nothing of it.
    expect(await inLine()).toEqual([]);
    const sweep = await call(`${stack.urls.destroy}/sweep`, { token: stack.tokenFor(ADMIN), body: {} });
    expect(sweep.status).toBe(200);
    expect(await inLine()).toEqual([]);
  }, 60_000);
});
