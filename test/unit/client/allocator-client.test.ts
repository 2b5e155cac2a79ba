import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllocatorClient } from '../../../client/allocator-client.ts';
import { AllocatorApiError } from '../../../client/errors.ts';
import { parseClusterEvents, parseInstance } from '../../../shared/api-types.ts';

/** Our own API's answers, scripted: each request takes the next one. */
let script: { status: number; body: unknown; headers?: Record<string, string> }[] = [];
const seen: { method: string; url: string; key: string | undefined }[] = [];
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', key: req.headers['idempotency-key'] as string | undefined });
    req.resume();
    const next = script.shift() ?? { status: 500, body: { error: { code: 500, status: 'INTERNAL', message: 'script ran out' } } };
    res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
    res.end(typeof next.body === 'string' ? next.body : JSON.stringify(next.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/{function}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const instance = {
  name: 's-1a2b3c4d',
  owner: 'a@x',
  mountName: '/m/s-1a2b3c4d',
  accessList: { In: ['a@x'] },
  creationTime: '2026-11-25T00:00:00.000Z',
  replicas: 1,
  readyReplicas: 1,
  version: 'v1',
  disk: 's-1a2b3c4d',
  expiresAt: null,
  parameters: {},
  state: 'ready',
  problems: [],
};
const error = (code: number, status: string) => ({
  status: code,
  body: { error: { code, status, message: `${status} says the server` } },
  headers: { 'retry-after': '0' },
});
const client = () => new AllocatorClient({ allocator: base, auth: 'token', retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 } });

describe('AllocatorClient', () => {
  it('retries a create that is still running (409 ABORTED) with the same Idempotency-Key', async () => {
    seen.length = 0;
    script = [error(409, 'ABORTED'), { status: 201, body: instance }];
    expect(await client().create()).toEqual(instance);
    expect(seen).toHaveLength(2);
    expect(seen[0]?.key).toBeDefined();
    expect(seen[1]?.key).toBe(seen[0]?.key);
  });

  it('waits in line: sends a queued create again with the same key for as long as the allocator answers its place', async () => {
    seen.length = 0;
    const queued = (position: number) => ({
      status: 409,
      body: {
        error: {
          code: 409,
          status: 'ABORTED',
          message: 'queued',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: 'QUEUED',
              domain: 'allocator.dev',
              metadata: { position: String(position), ahead: String(position - 1) },
            },
          ],
        },
      },
      headers: { 'retry-after': '0' },
    });
    // More answers of its place than the retry attempts (3): the queue's re-sends are not retries.
    script = [queued(3), queued(2), queued(1), queued(1), { status: 201, body: instance }];
    const places: string[] = [];
    const created = await client().create({
      queue: true,
      queueTimeoutSeconds: 60,
      onQueued: (p) => places.push(`${p.position}/${p.ahead}`),
    });
    expect(created).toEqual(instance);
    expect(places).toEqual(['3/2', '2/1', '1/0', '1/0']);
    expect(seen).toHaveLength(5);
    expect(new Set(seen.map((s) => s.key)).size).toBe(1);
  });

  it('stops waiting in line when its signal is aborted', async () => {
    seen.length = 0;
    const stop = new AbortController();
    const queuedBody = {
      error: {
        code: 409,
        status: 'ABORTED',
        message: 'queued',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'QUEUED',
            domain: 'allocator.dev',
            metadata: { position: '1', ahead: '0' },
          },
        ],
      },
    };
    script = [
      { status: 409, body: queuedBody, headers: { 'retry-after': '0' } },
      { status: 201, body: instance },
    ];
    const error = await client()
      .create({ queue: true, signal: stop.signal, onQueued: () => stop.abort() })
      .catch((caught: unknown) => caught);
    expect((error as Error).name).toBe('AbortError');
    expect(seen).toHaveLength(1);
    script = [];
  });

  it('does not retry a 409 ALREADY_EXISTS, which no retry can fix', async () => {
    seen.length = 0;
    script = [error(409, 'ALREADY_EXISTS'), { status: 201, body: instance }];
    await expect(client().create()).rejects.toMatchObject({ status: 409, code: 'ALREADY_EXISTS' });
    expect(seen).toHaveLength(1);
    script = [];
  });

  it.each([
    ['a 200 that is not JSON', { status: 200, body: '<html>proxy</html>' }, /not JSON/],
    ['an instance without a name', { status: 201, body: { ...instance, name: 3 } }, /instance.name is not a string/],
    ['a list without instances', { status: 200, body: { items: [] } }, /no "instances" list/],
  ])('refuses %s instead of trusting it', async (_label, answer, message) => {
    script = [answer];
    const call = _label.includes('list') ? client().list() : client().create();
    await expect(call).rejects.toThrow(AllocatorApiError);
    script = [answer];
    await expect(_label.includes('list') ? client().list() : client().create()).rejects.toMatchObject({
      code: 'INVALID_ANSWER',
      message: expect.stringMatching(message),
    });
  });
});

describe('events', () => {
  const backOff = {
    time: '2026-01-02T15:09:00.000Z',
    firstTime: '2026-01-02T15:05:00.000Z',
    about: 'pod',
    warning: true,
    count: 5,
    reason: 'BackOff',
    message: 'Its container syncbased keeps crashing; waiting before starting it again',
  };

  it("GETs the list function's /events with the name, and gives the events as answered", async () => {
    seen.length = 0;
    script = [{ status: 200, body: { events: [backOff] } }];
    expect(await client().events('s-1a2b3c4d')).toEqual([backOff]);
    expect(seen.map(({ method, url }) => ({ method, url }))).toEqual([{ method: 'GET', url: '/list/events?name=s-1a2b3c4d' }]);
  });

  it.each([
    [{ items: [] }, /no "events" list/],
    [{ events: [{ ...backOff, about: 'ReplicaSet' }] }, /events\[0\]\.about is not one of instance, pod, service/],
    [{ events: [backOff, { ...backOff, count: 0 }] }, /events\[1\]\.count is not a positive whole number/],
    [{ events: [{ ...backOff, message: undefined }] }, /events\[0\]\.message is not a string/],
    [{ events: [{ ...backOff, warning: 'yes' }] }, /events\[0\]\.warning is not true or false/],
  ])('refuses %j, naming what is wrong', (value, message) => {
    expect(() => parseClusterEvents(value)).toThrow(message);
  });
});

describe('parseInstance', () => {
  it('accepts what the functions answer', () => {
    expect(parseInstance(instance)).toEqual(instance);
    expect(parseInstance({ ...instance, expiresAt: '2026-11-26T00:00:00.000Z' }).expiresAt).toBe('2026-11-26T00:00:00.000Z');
  });

  it.each([
    [null, /instance is not an object/],
    [{ ...instance, replicas: '1' }, /instance.replicas is not a whole number/],
    [{ ...instance, accessList: { In: [1] } }, /instance.accessList is not/],
    [{ ...instance, expiresAt: 5 }, /instance.expiresAt is not a string or null/],
  ])('refuses %j', (value, message) => {
    expect(() => parseInstance(value)).toThrow(message);
  });
});

describe("AllocatorClient's progress streams", () => {
  const ndjson = (...lines: object[]) => ({
    status: 201,
    body: lines.map((line) => `${JSON.stringify(line)}\n`).join(''),
    headers: { 'content-type': 'application/x-ndjson' },
  });
  const at = '2026-11-25T00:00:00.000Z';
  const step = { at, step: 'slots', name: 's-1a2b3c4d', message: 'slot taken' };

  it("hands each step on, skips one it does not know, and answers the last line's instance", async () => {
    script = [ndjson(step, { at, step: 'warming', message: 'a newer step' }, { at, status: 201, answer: instance })];
    const steps: string[] = [];
    expect(await client().create({ onProgress: (line) => void steps.push(line.step) })).toEqual(instance);
    expect(steps).toEqual(['slots']);
  });

  it("throws the last line's error as the answer's own, with its Retry-After", async () => {
    script = [
      ndjson(step, { at, status: 400, error: { code: 400, status: 'FAILED_PRECONDITION', message: 'cannot start' }, retryAfterSeconds: 2 }),
    ];
    const failed = await client()
      .create({ onProgress: () => undefined })
      .catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(AllocatorApiError);
    expect(failed).toMatchObject({ status: 400, code: 'FAILED_PRECONDITION', message: 'cannot start', retryAfterMs: 2000 });
  });

  it('sends the create again, same key, when the stream breaks off before its answer', async () => {
    seen.length = 0;
    script = [ndjson(step), ndjson(step, { at, status: 201, answer: instance })];
    expect(await client().create({ onProgress: () => undefined })).toEqual(instance);
    expect(seen).toHaveLength(2);
    expect(seen[1]?.key).toBe(seen[0]?.key);
  });
});
