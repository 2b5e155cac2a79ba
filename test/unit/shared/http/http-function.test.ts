import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallerIdentity } from '../../../../shared/auth/identity.ts';
import type { TokenVerifier } from '../../../../shared/auth/token-verifier.ts';
import { UnauthenticatedError } from '../../../../shared/errors.ts';
import { installJsonFrameworkErrors } from '../../../../shared/http/framework-errors.ts';
import { makeHttpFunction, StreamedAnswer } from '../../../../shared/http/http-function.ts';

/** Our TokenVerifier interface, answering "Bearer <email>" with that caller. */
const verifier: TokenVerifier = {
  verify: async (headers) => {
    const email = /^Bearer (\S+)$/.exec(String(headers.authorization ?? ''))?.[1];
    if (!email) throw new UnauthenticatedError('missing bearer token');
    return { email, subject: '1', kind: 'user', hostedDomain: email.split('@')[1] ?? '' } satisfies CallerIdentity; // Workspace accounts
  },
  warmUp: async () => undefined,
};

const logs: Record<string, unknown>[] = [];
const handled: string[] = [];
let url = '';
let server: ReturnType<typeof getTestServer>;
let listServer: ReturnType<typeof getTestServer>;
let listUrl = '';

beforeAll(async () => {
  installJsonFrameworkErrors({ log: () => undefined });
  const name = `f-${randomBytes(4).toString('hex')}`;
  const common = {
    verifier,
    policy: { serverName: 's', admins: ['root@example.com'], allowedCallers: ['*@example.com'], workspaceDomains: ['example.com'] },
    corsOrigins: ['https://dashboard.test'],
    log: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>),
  };
  http(
    name,
    makeHttpFunction({
      ...common,
      function: 'destroy',
      handlers: {
        destroy: async (call, request) => {
          handled.push('/');
          if (request.name === 's-0000dead') throw new Error('a bug with internals in its message');
          call.report(`could not undo the disk ${request.name}: boom`);
          return { ok: true };
        },
        suspend: async (call) => ({ progress: call.progress !== undefined }),
        reset: async (call, request) => {
          call.progress?.('stopped');
          call.progress?.('disk', { pooled: false });
          if (request.name === 's-0000dead') throw new Error('a bug with internals in its message');
          return { name: request.name, progress: call.progress !== undefined };
        },
        sweep: async () => {
          handled.push('/sweep');
          return {};
        },
      },
    }),
  );
  http(
    `${name}-list`,
    makeHttpFunction({
      ...common,
      function: 'list',
      handlers: {
        list: async () => ({ instances: [] }),
        destroyed: async () => ({ destroyed: [] }),
        watch: async () => ({}),
        events: async () => ({ events: [] }),
        logs: async (_call, request) =>
          request.container === 'endless'
            ? new StreamedAnswer(
                new Readable({
                  read() {
                    setTimeout(() => this.push('2026-01-02T15:04:05Z again\n'), 5);
                  },
                }),
              )
            : request.container === 'broken'
              ? new StreamedAnswer(
                  Readable.from(
                    (async function* () {
                      yield '2026-01-02T15:04:05Z before\n';
                      throw new Error('the API server went away');
                    })(),
                  ),
                )
              : new StreamedAnswer(Readable.from(['2026-01-02T15:04:05.000000001Z one\n', '2026-01-02T15:04:06Z two\n']), {
                  'X-Allocator-Follow-Until': '2026-01-02T15:05:00.000Z',
                }),
      },
    }),
  );
  listServer = getTestServer(`${name}-list`);
  await new Promise<void>((resolve) => listServer.listen(0, '127.0.0.1', resolve));
  listUrl = `http://127.0.0.1:${(listServer.address() as AddressInfo).port}`;
  server = getTestServer(name);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await new Promise<void>((resolve) => listServer.close(() => resolve()));
});

async function send(path: string, init: { method?: string; as?: string; body?: string; origin?: string } = {}) {
  const listing = path.startsWith('/listing');
  const response = await fetch(`${listing ? listUrl : url}${listing ? path.slice('/listing'.length) || '/' : path}`, {
    method: init.method ?? 'POST',
    headers: {
      'content-type': 'application/json',
      ...(init.as ? { authorization: `Bearer ${init.as}` } : {}),
      ...(init.origin ? { origin: init.origin } : {}),
    },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : {}) as { error?: { code: number; status: string; message: string } },
  };
}

describe('makeHttpFunction', () => {
  it.each([
    [
      'an unknown path',
      '/nope',
      { as: 'ada@example.com' },
      404,
      /no such path \/nope: destroy takes POST\/DELETE \/, POST \/suspend, POST \/reset, POST \/sweep/,
    ],
    ['a method the route does not take', '/sweep', { method: 'PUT', as: 'root@example.com' }, 405, /method PUT is not allowed; use POST/],
    ['no token', '/', {}, 401, /missing bearer token/],
    [
      'a caller outside the allowed callers',
      '/',
      { as: 'eve@elsewhere.org', body: '{"name":"s-00000001"}' },
      403,
      /eve@elsewhere.org may not use this allocator/,
    ],
    [
      'a non-admin on an admin route, before its body is read',
      '/sweep',
      { as: 'ada@example.com', body: '{"bogus":true}' },
      403,
      /only admins may sweep/,
    ],
    [
      'an admin with a bad body on an admin route',
      '/sweep',
      { as: 'root@example.com', body: '{"bogus":true}' },
      400,
      /unknown field "bogus"/,
    ],
    [
      'a non-admin asking for all',
      '/listing?all=true',
      { method: 'GET', as: 'ada@example.com' },
      403,
      /only admins may list all instances/,
    ],
    [
      'a query parameter given twice, which the admin check and the parser would read differently',
      '/listing?all=false&all=true',
      { method: 'GET', as: 'ada@example.com' },
      400,
      /query parameter "all" is given 2 times; give it once/,
    ],
    ['bad JSON from an allowed caller', '/', { as: 'ada@example.com', body: '{not json' }, 400, /request body is not valid JSON/],
    [
      'a body the table refuses',
      '/',
      { as: 'ada@example.com', body: '{"name":"kube-dns"}' },
      400,
      /not an instance name of this allocator/,
    ],
    [
      'a bug in the operation',
      '/',
      { as: 'ada@example.com', body: '{"name":"s-0000dead"}' },
      500,
      /^internal error; see the function logs$/,
    ],
  ] as const)('answers %s with a Google-shaped error', async (_label, path, init, status, message) => {
    const before = handled.length;
    const response = await send(path, init);
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error: { code: status, status: expect.any(String), message: expect.stringMatching(message) } });
    if (status !== 500) expect(handled.length).toBe(before); // refused before the operation ran
  });

  it('sends Allow with a 405 and WWW-Authenticate with a 401', async () => {
    expect((await send('/sweep', { method: 'PUT', as: 'root@example.com' })).headers.get('allow')).toBe('POST');
    expect((await send('/')).headers.get('www-authenticate')).toBe('Bearer');
  });

  it('lets admins run admin routes and asks nothing more of callers on caller routes', async () => {
    expect((await send('/sweep', { as: 'root@example.com', body: '{}' })).status).toBe(200);
    expect((await send('/listing', { method: 'GET', as: 'ada@example.com' })).status).toBe(200);
    expect((await send('/listing?all=true', { method: 'GET', as: 'root@example.com' })).status).toBe(200);
  });

  it('logs one line per request, with the caller, the instance, the error chain and what the operation reported', async () => {
    logs.length = 0;
    await send('/', { as: 'ada@example.com', body: '{"name":"s-00000001"}' });
    await send('/', { as: 'ada@example.com', body: '{"name":"s-0000dead"}' });
    expect(logs).toEqual([
      expect.objectContaining({
        severity: 'INFO',
        message: 'destroy 200 s-00000001',
        caller: 'ada@example.com',
        instance: 's-00000001',
        events: ['could not undo the disk s-00000001: boom'],
      }),
      expect.objectContaining({
        severity: 'ERROR',
        message: 'destroy 500 s-0000dead',
        instance: 's-0000dead',
        error: 'Error: a bug with internals in its message',
      }),
    ]);
  });
});

describe("CORS for the dashboard's origin", () => {
  it("answers a preflight from the dashboard's origin, before any token", async () => {
    const response = await send('/sweep', { method: 'OPTIONS', origin: 'https://dashboard.test' });
    expect(response.status).toBe(204);
    expect(
      Object.fromEntries(
        ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers', 'vary'].map((h) => [
          h,
          response.headers.get(h),
        ]),
      ),
    ).toEqual({
      'access-control-allow-origin': 'https://dashboard.test',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'authorization, content-type, idempotency-key, x-serverless-authorization',
      vary: 'Origin',
    });
  });

  it('refuses a preflight from another origin, and gives its answers no CORS headers', async () => {
    const preflight = await send('/', { method: 'OPTIONS', origin: 'https://evil.test' });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const answer = await send('/listing', { method: 'GET', as: 'ada@example.com', origin: 'https://evil.test' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("puts CORS headers on the dashboard's answers, errors included, so the page can read them", async () => {
    const ok = await send('/listing', { method: 'GET', as: 'ada@example.com', origin: 'https://dashboard.test' });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://dashboard.test');
    const refused = await send('/sweep', { as: 'ada@example.com', body: '{}', origin: 'https://dashboard.test' });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://dashboard.test');
    expect(refused.headers.get('access-control-expose-headers')).toBe('Retry-After, X-Allocator-Follow-Until');
  });
});

describe('a streamed answer', () => {
  it('is piped as text with its headers, after the same checks as any answer, and logged once', async () => {
    const response = await fetch(`${listUrl}/logs?name=s-1a2b3c4d&follow=true`, {
      headers: { authorization: 'Bearer ada@example.com', origin: 'https://dashboard.test' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('x-allocator-follow-until')).toBe('2026-01-02T15:05:00.000Z');
    expect(response.headers.get('access-control-allow-origin')).toBe('https://dashboard.test');
    expect(await response.text()).toBe('2026-01-02T15:04:05.000000001Z one\n2026-01-02T15:04:06Z two\n');
    expect(logs.at(-1)).toMatchObject({ message: 'list 200 s-1a2b3c4d', httpRequest: { status: 200 } });
  });

  it('answers bad input with a JSON 400 before any byte of the stream', async () => {
    const response = await send('/listing/logs?name=s-1a2b3c4d&since=5x', { method: 'GET', as: 'ada@example.com' });
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({
      code: 400,
      status: 'INVALID_ARGUMENT',
      message: '"since" must be a duration such as 30s, 5m, 2h or 1h30m; got "5x"',
    });
    expect((await send('/listing/logs?name=s-1a2b3c4d', { method: 'GET' })).status).toBe(401);
  });

  it('is cut short when its source fails once sent, and the log says why', async () => {
    const response = await fetch(`${listUrl}/logs?name=s-1a2b3c4d&container=broken`, {
      headers: { authorization: 'Bearer ada@example.com' },
    });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(logs.at(-1)).toMatchObject({ error: 'Error: the API server went away' });
  });

  it('ends when its caller goes, which the log reports as no failure', async () => {
    const gone = new AbortController();
    const response = await fetch(`${listUrl}/logs?name=s-1a2b3c4d&container=endless`, {
      headers: { authorization: 'Bearer ada@example.com' },
      signal: gone.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    gone.abort();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const line = logs.at(-1);
    expect(line).toMatchObject({ httpRequest: { status: 200 }, events: ['the caller closed the stream'] });
    expect(line).not.toHaveProperty('error');
  });
});

describe('a progress stream', () => {
  const ask = async (path: string, body: object, accept: string) =>
    await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer ada@example.com', 'content-type': 'application/json', accept },
      body: JSON.stringify(body),
    });
  const linesOf = async (response: Response) =>
    (await response.text())
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('sends each step as a line with its time, then the answer with its status', async () => {
    const response = await ask('/reset', { name: 's-1a2b3c4d' }, 'application/json, application/x-ndjson');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = await linesOf(response);
    expect(lines.map(({ at: _at, ...line }) => line)).toEqual([
      { step: 'stopped', name: 's-1a2b3c4d', message: 'pods stopped' },
      { step: 'disk', name: 's-1a2b3c4d', pooled: false, message: 'disk ready' },
      { status: 200, answer: { name: 's-1a2b3c4d', progress: true } },
    ]);
    for (const line of lines) expect(Date.parse(String(line.at))).toBeGreaterThan(Date.now() - 60_000);
    expect(logs.at(-1)).toMatchObject({ message: 'destroy 200 s-1a2b3c4d', httpRequest: { status: 200 } });
  });

  it("ends with the error the answer would have had, as Google's JSON, and the log has its status and cause", async () => {
    const lines = await linesOf(await ask('/reset', { name: 's-0000dead' }, 'application/x-ndjson'));
    expect(lines.at(-1)).toMatchObject({ status: 500, error: { code: 500, status: 'INTERNAL' } });
    expect(JSON.stringify(lines.at(-1))).not.toContain('internals');
    expect(logs.at(-1)).toMatchObject({ httpRequest: { status: 500 }, error: 'Error: a bug with internals in its message' });
  });

  it('is sent only when asked, and only by operations that have one', async () => {
    const plain = await ask('/reset', { name: 's-1a2b3c4d' }, 'application/json');
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await plain.json()).toEqual({ name: 's-1a2b3c4d', progress: false });
    const refused = await ask('/reset', { name: 's-1a2b3c4d' }, 'application/x-ndjson;q=0, application/json');
    expect(await refused.json()).toEqual({ name: 's-1a2b3c4d', progress: false });
    const suspend = await ask('/suspend', { name: 's-1a2b3c4d' }, 'application/x-ndjson');
    expect(await suspend.json()).toEqual({ progress: false });
  });

  it('answers bad input as plain JSON with its 4xx, before any line', async () => {
    const response = await ask('/reset', { name: 'NOT A NAME' }, 'application/x-ndjson');
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await response.json()) as { error: { status: string } }).error.status).toBe('INVALID_ARGUMENT');
  });
});
