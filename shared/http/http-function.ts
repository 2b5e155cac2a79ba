import type { HttpFunction, Request, Response } from '@google-cloud/functions-framework';
import type { CallerIdentity } from '../auth/identity.ts';
import { authorize, type AccessPolicy, type Requirement } from '../auth/policy.ts';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import { MethodNotAllowedError, NotFoundError, PayloadTooLargeError, PermissionDeniedError, toHttpError } from '../errors.ts';
import { parseBody } from './body.ts';
import { MAX_BODY_BYTES } from './framework-errors.ts';
import { describeErrorChain, formatRequestLog, stdoutLog, type LogSink } from './request-log.ts';

export interface RequestContext {
  readonly caller: CallerIdentity;
  /** The JSON body (an object; `{}` when there is none). */
  readonly body: Readonly<Record<string, unknown>>;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Names the instance in the request log once it is known. */
  noteInstance(name: string): void;
  /** Adds an event to the request's log line (an undo that failed, say). */
  report(event: string): void;
  /** Adds numbers to the request's log line, under `details`, for log-based metrics (the sweep's counts). */
  detail(values: Readonly<Record<string, number>>): void;
}

export interface HandlerResult {
  readonly status: number;
  readonly body: unknown;
}

/** One operation of a function, at one path. */
export interface Route {
  readonly methods: readonly string[];
  /** Who may call it, decided by the access policy before the body is read; may depend on the query (list's `all=true`). */
  readonly requires: Requirement | ((query: URLSearchParams) => Requirement);
  /** What it does, for the 403 of a non-admin: "only admins may <operation>". */
  readonly operation: string;
  handle(context: RequestContext): Promise<HandlerResult>;
}

/**
 * Wraps a function's routes as an HTTP function: finds the route, checks the
 * method, the body size, the caller's token and what the access policy
 * allows, then parses the JSON body and runs the operation. Every failure is
 * answered as a Google API JSON error through `toHttpError`; one log line per request.
 */
export function makeHttpFunction(options: {
  name: string;
  routes: Readonly<Record<string, Route>>;
  verifier: TokenVerifier;
  policy: AccessPolicy;
  /** Origins whose pages may call (the dashboard's): preflights are answered and responses carry CORS headers for them. */
  corsOrigins?: readonly string[];
  log?: LogSink;
}): HttpFunction {
  const log = options.log ?? stdoutLog;
  const paths = Object.entries(options.routes)
    .map(([path, route]) => `${route.methods.join('/')} ${path}`)
    .join(', ');
  return async (req: Request, res: Response) => {
    const started = performance.now();
    let caller: string | undefined;
    let instance: string | undefined;
    let status = 500;
    let failure: unknown;
    const events: string[] = [];
    const details: Record<string, number> = {};
    try {
      const url = new URL(req.originalUrl ?? req.url, 'http://function');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const route = options.routes[path];
      const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
      if (origin !== undefined && options.corsOrigins?.includes(origin)) res.set(corsHeaders(origin));
      if (req.method === 'OPTIONS' && origin !== undefined) {
        if (!options.corsOrigins?.includes(origin))
          throw new PermissionDeniedError(
            `pages at ${origin} may not call this allocator; its admins can add the origin to ALLOCATOR_DASHBOARD_ORIGINS`,
          );
        status = 204;
        res
          .status(204)
          .set(PREFLIGHT_HEADERS)
          .set('Access-Control-Allow-Methods', (route?.methods ?? ['GET', 'POST']).join(', '))
          .end();
        return;
      }
      if (!route) throw new NotFoundError(`no such path ${path}: ${options.name} takes ${paths}`);
      if (!route.methods.includes(req.method)) throw new MethodNotAllowedError(req.method, route.methods);
      if (req.rawBody && req.rawBody.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
      const identity = await options.verifier.verify(req.headers);
      caller = identity.email;
      authorize(
        options.policy,
        identity,
        typeof route.requires === 'function' ? route.requires(url.searchParams) : route.requires,
        route.operation,
      );
      const result = await route.handle({
        caller: identity,
        body: parseBody(req.rawBody),
        query: url.searchParams,
        headers: req.headers,
        noteInstance: (name) => {
          instance = name;
        },
        report: (event) => void events.push(event),
        detail: (values) => void Object.assign(details, values),
      });
      status = result.status;
      res.status(status).json(result.body);
    } catch (error) {
      failure = error;
      const mapped = toHttpError(error);
      status = mapped.status;
      res.status(status).set(mapped.headers).json(mapped.body);
    } finally {
      log(
        formatRequestLog({
          function: options.name,
          method: req.method,
          url: req.originalUrl ?? req.url,
          status,
          latencyMs: Math.round(performance.now() - started),
          message: `${options.name} ${status}${instance ? ` ${instance}` : ''}`,
          ...(caller ? { caller } : {}),
          ...(instance ? { instance } : {}),
          ...(typeof req.headers['user-agent'] === 'string' ? { userAgent: req.headers['user-agent'] } : {}),
          ...(req.ip ? { remoteIp: req.ip } : {}),
          ...(failure !== undefined ? { error: describeErrorChain(failure) } : {}),
          events,
          details,
        }),
      );
    }
  };
}

/** What a preflight allows besides the method: the headers the dashboard and the client send. */
const PREFLIGHT_HEADERS = {
  'Access-Control-Allow-Headers': 'authorization, content-type, idempotency-key, x-serverless-authorization',
  'Access-Control-Max-Age': '3600',
};

function corsHeaders(origin: string): Record<string, string> {
  return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': 'Retry-After', Vary: 'Origin' };
}
