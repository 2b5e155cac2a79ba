import { http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverSentEvents, toWatchEvent, type WatchEvent } from '../../../client/instance-events.ts';
import { makeListHandler } from '../../../shared/handlers/list-handler.ts';
import { WatchExpiredError, type DeploymentEventsClient } from '../../../shared/kube/deployment-events.ts';
import { deploymentEventsFor } from '../../../shared/runtime/list-runtime.ts';
import { closeServer, listenOnLoopback } from '../../harness/http.ts';
import { call, startTestStack, type TestStack } from '../stack.ts';

let stack: TestStack;
/** A list function whose watches end after 3 s (time enough for a resumed one to replay what it missed, under load), and whose watch from resourceVersion 1 has expired (410), as a real one's would once compacted. */
let short: { url: string; stop: () => Promise<void> };
const LIMIT_MS = 3_000;

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'watch' });
  const real = deploymentEventsFor(stack.runtime.config);
  const expiring = async (): Promise<DeploymentEventsClient> => {
    const events = await real();
    return {
      list: (selector) => events.list(selector),
      watch: async (request) =>
        request.resourceVersion === '1'
          ? { ended: Promise.reject(new WatchExpiredError('resourceVersion 1 is too old')) }
          : await events.watch(request),
    };
  };
  const handler = makeListHandler({
    runtime: { ...stack.runtime, watchLimitMs: LIMIT_MS, deploymentEvents: expiring },
    log: () => undefined,
  });
  http('list-short-watch', handler);
  const server = getTestServer('list-short-watch');
  short = { url: await listenOnLoopback(server), stop: () => closeServer(server) };
});
afterAll(async () => {
  await short?.stop();
  await stack?.stop();
});

/** An open watch: its events as they come, and the raw text read so far. */
interface Stream {
  readonly response: Response;
  readonly events: WatchEvent[];
  /** Every id the stream sent, the bare ones included. */
  readonly ids: string[];
  text: string;
  /** Settles when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

async function openWatch(url: string, who: string, options: { query?: string; headers?: Record<string, string> } = {}): Promise<Stream> {
  const abort = new AbortController();
  const response = await fetch(`${url}/watch${options.query ?? ''}`, {
    headers: { authorization: `Bearer ${stack.tokenFor(who)}`, ...options.headers },
    signal: abort.signal,
  });
  const stream: Stream = {
    response,
    events: [],
    ids: [],
    text: '',
    ended: Promise.resolve(),
    close: () => abort.abort(),
  };
  if (!response.ok || !response.body) return stream;
  const decoder = new TextDecoder();
  const body = response.body;
  const tee = async function* (): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      stream.text += decoder.decode(chunk, { stream: true });
      yield chunk;
    }
  };
  (stream as { ended: Promise<void> }).ended = (async () => {
    try {
      for await (const raw of serverSentEvents(tee())) {
        if (raw.id !== undefined) stream.ids.push(raw.id);
        const event = toWatchEvent(raw);
        if (event) stream.events.push(event);
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
  })();
  return stream;
}

/** Waits until `stream` has an event matching `match`, and answers it. */
async function next(stream: Stream, match: (event: WatchEvent) => boolean, timeoutMs = 20_000): Promise<WatchEvent> {
  const started = Date.now();
  for (;;) {
    const found = stream.events.find(match);
    if (found) return found;
    if (Date.now() - started > timeoutMs) throw new Error(`no such event within ${timeoutMs} ms; got ${JSON.stringify(stream.events)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const isInstance =
  (name: string, when: (event: Extract<WatchEvent, { type: 'instance' }>) => boolean = () => true) =>
  (event: WatchEvent): boolean =>
    event.type === 'instance' && event.instance.name === name && when(event);

/** Extends `name` as `owner` (which rolls its Deployment) and waits until `stream` shows it ready with the new expiry; that expiry. */
async function extendAndSeeReady(stream: Stream, owner: string, name: string, lifetimeSeconds: number): Promise<string> {
  const extended = await call<{ expiresAt: string }>(`${stack.urls.create}/extend`, {
    token: stack.tokenFor(owner),
    body: { name, lifetimeSeconds },
  });
  expect(extended.status).toBe(200);
  await next(
    stream,
    isInstance(name, (event) => event.instance.expiresAt === extended.body.expiresAt && event.instance.state === 'ready'),
  );
  return extended.body.expiresAt;
}

async function createReady(owner: string): Promise<string> {
  const created = await call<{ name: string }>(stack.urls.create, { token: stack.tokenFor(owner), body: {} });
  expect(created.status).toBe(201);
  return created.body.name;
}

describe('watch', () => {
  const OWNER = 'wes@example.com';
  const STRANGER = 'sal@example.com';
  let name: string;
  let strangers: string;
  beforeAll(async () => {
    [name, strangers] = await Promise.all([createReady(OWNER), createReady(STRANGER)]);
  });

  it('sends each instance on connect, then synced with their names; never a stranger’s', async () => {
    const stream = await openWatch(stack.urls.list, OWNER);
    try {
      expect(stream.response.status).toBe(200);
      expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const synced = await next(stream, (event) => event.type === 'synced');
      expect(synced).toEqual({ type: 'synced', names: [name], id: expect.stringMatching(/^\d+,\d+$/) });
      expect(stream.events[0]).toMatchObject({ type: 'instance', instance: { name, state: 'ready', owner: OWNER, sharedWithMe: false } });
      expect(stream.events[0]).not.toHaveProperty('id');
      // The same view as list gives.
      const listed = await call<{ instances: unknown[] }>(stack.urls.list, { token: stack.tokenFor(OWNER), method: 'GET' });
      expect(listed.body.instances).toEqual([(stream.events[0] as { instance: unknown }).instance]);
      // A change to the stranger's instance makes no event and shows nothing of it.
      const extended = await call(`${stack.urls.create}/extend`, {
        token: stack.tokenFor(STRANGER),
        body: { name: strangers, lifetimeSeconds: 3600 },
      });
      expect(extended.status).toBe(200);
      // Then a change to the owner's: its events come after any the stranger's change made, on the same watch of the API server.
      await extendAndSeeReady(stream, OWNER, name, 3600);
      expect(stream.events.filter((event) => event.type === 'instance' && event.instance.name !== name)).toEqual([]);
      expect(stream.text).not.toContain(strangers);
    } finally {
      stream.close();
    }
  });

  it('sends a change made by another call, whole, once: a new instance, it ready, then deleted', async () => {
    const stream = await openWatch(stack.urls.list, OWNER);
    try {
      await next(stream, (event) => event.type === 'synced');
      const created = await call<{ name: string }>(stack.urls.create, { token: stack.tokenFor(OWNER), body: { wait: false } });
      expect(created.status).toBe(201);
      const second = created.body.name;
      const ready = await next(
        stream,
        isInstance(second, (event) => event.instance.state === 'ready'),
      );
      expect(ready).toMatchObject({
        type: 'instance',
        instance: { name: second, readyReplicas: 1 },
        id: expect.stringMatching(/^\d+,\d+$/),
      });
      const destroyed = await call(stack.urls.destroy, { token: stack.tokenFor(OWNER), body: { name: second } });
      expect(destroyed.status).toBe(200);
      await next(stream, (event) => event.type === 'deleted' && event.name === second);
      const views = stream.events.filter(isInstance(second)).map((event) => JSON.stringify(event));
      expect(new Set(views).size).toBe(views.length);
    } finally {
      stream.close();
    }
  });

  it('ends the stream at its deadline, and a resume from the last id misses nothing and repeats nothing', async () => {
    // A stream open all along, to compare with.
    const along = await openWatch(stack.urls.list, OWNER);
    try {
      await next(along, (event) => event.type === 'synced');
      const opened = Date.now();
      const first = await openWatch(short.url, OWNER);
      const until = Date.parse(first.response.headers.get('x-allocator-follow-until') ?? '');
      // The limit from when the function took the request: after it was sent, and before its answer came.
      expect(until).toBeGreaterThanOrEqual(opened + LIMIT_MS - 5);
      expect(until).toBeLessThanOrEqual(Date.now() + LIMIT_MS);
      await first.ended;
      // Ended by the list function at its deadline, not by the client.
      expect(Date.now()).toBeGreaterThanOrEqual(until - 100);
      expect(Date.now()).toBeLessThan(until + 5_000);
      expect(first.events.map((event) => event.type)).toEqual(['instance', 'synced']);
      const lastId = first.ids.at(-1)!;
      // A change while no stream is open: extend rolls the Deployment, so it is starting, then ready again.
      const expiresAt = await extendAndSeeReady(along, OWNER, name, 7200);
      const resumed = await openWatch(short.url, OWNER, { query: `?since=${lastId}` });
      await resumed.ended;
      expect(resumed.events.at(-1)).toMatchObject({ instance: { name, state: 'ready', expiresAt } });
      // Again from there, by Last-Event-ID as a browser's EventSource sends it.
      const again = await openWatch(short.url, OWNER, { headers: { 'last-event-id': resumed.ids.at(-1)! } });
      await again.ended;
      expect(again.response.status).toBe(200);
      // Together, exactly what the stream open all along got after the first stream's end: nothing missed, nothing twice.
      // (Those after the first stream's id: resourceVersions are opaque to clients, but a test may compare them.) Each id
      // also carries where the other list's watch stands, which its bookmarks move in each stream at their own times: the
      // events are compared without their ids, and each stream's ids are checked to be distinct.
      const after = (id: string | undefined): boolean =>
        id !== undefined && id.split(',').some((version, part) => Number(version) > Number(lastId.split(',')[part]));
      const changes = along.events.slice(along.events.findIndex((event) => event.type === 'synced') + 1).filter((event) => after(event.id));
      const resumedAll = [...resumed.events, ...again.events];
      const withoutId = ({ id: _id, ...event }: WatchEvent) => event;
      expect(resumedAll.map(withoutId)).toEqual(changes.slice(0, resumedAll.length).map(withoutId));
      expect(new Set(resumedAll.map((event) => event.id)).size).toBe(resumedAll.length);
    } finally {
      along.close();
    }
  });

  it('sends everything again, closed by synced, when the cluster no longer has the history asked for (410)', async () => {
    const stream = await openWatch(short.url, OWNER, { query: '?since=1,1' });
    await stream.ended;
    expect(stream.events.map((event) => event.type)).toEqual(['instance', 'synced']);
    expect(stream.events[1]).toMatchObject({ names: [name] });
  });

  it('refuses an id that is not one, and all=true to others than admins', async () => {
    const bad = await openWatch(stack.urls.list, OWNER, { query: '?since=not%20an%20id' });
    expect(bad.response.status).toBe(400);
    const all = await openWatch(stack.urls.list, OWNER, { query: '?all=true' });
    expect(all.response.status).toBe(403);
  });
});
