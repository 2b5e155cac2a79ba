import type { HttpFunction, Request, Response } from '@google-cloud/functions-framework';
import type { CallerIdentity } from '../auth/identity.ts';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import { isAllowedCaller } from '../auth/allowed-callers.ts';
import { BadRequestError, MethodNotAllowedError, PayloadTooLargeError, PermissionDeniedError, toHttpError } from '../errors.ts';
import { MAX_BODY_BYTES } from './framework-errors.ts';
import { describeErrorChain, formatRequestLog, type LogSink } from './request-log.ts';

export interface RequestContext {
  readonly caller: CallerIdentity;
  /** The JSON body (an object; `{}` when there is none). */
  readonly body: Readonly<Record<string, unknown>>;
  readonly query: URLSearchParams;
  /** The request path below the function's URL, `/` for the function itself. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Names the instance in the request log once it is known. */
  noteInstance(name: string): void;
}

export interface HandlerResult {
  readonly status: number;
  readonly body: unknown;
}

/**
 * Wraps an operation as an HTTP function: checks the method, the body size
 * and the caller's token, parses the JSON body, and answers every failure as
 * a Google API JSON error through `toHttpError`. Logs one line per request.
 */
export function makeHttpFunction(options: {
  name: string;
  methods: readonly string[];
  verifier: TokenVerifier;
  /** Who may call at all (see ALLOCATOR_ALLOWED_CALLERS). */
  access: { readonly allowedCallers: readonly string[]; readonly admins: readonly string[] };
  handle: (context: RequestContext) => Promise<HandlerResult>;
  log?: LogSink;
}): HttpFunction {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  return async (req: Request, res: Response) => {
    const started = performance.now();
    let caller: string | undefined;
    let instance: string | undefined;
    let status = 500;
    let failure: unknown;
    try {
      if (!options.methods.includes(req.method)) throw new MethodNotAllowedError(req.method, options.methods);
      const rawBody = req.rawBody;
      if (rawBody && rawBody.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
      const identity = await options.verifier.verify(req.headers);
      caller = identity.email;
      if (!isAllowedCaller(identity.email, options.access.allowedCallers, options.access.admins)) {
        throw new PermissionDeniedError(`${identity.email} may not use this allocator; ask its admins to add you to ALLOCATOR_ALLOWED_CALLERS`);
      }
      const url = new URL(req.originalUrl ?? req.url, 'http://function');
      const result = await options.handle({
        caller: identity,
        body: parseBody(rawBody),
        query: url.searchParams,
        path: url.pathname.replace(/\/+$/, '') || '/',
        headers: req.headers,
        noteInstance: (name) => {
          instance = name;
        },
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
        }),
      );
    }
  };
}

/** The raw body as a JSON object: the framework's parsing depends on Content-Type, ours does not. */
export function parseBody(rawBody: Buffer | undefined): Record<string, unknown> {
  const text = rawBody?.toString('utf8').trim() ?? '';
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadRequestError('request body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BadRequestError('request body must be a JSON object');
  return value as Record<string, unknown>;
}

/** Refuses fields a request does not take, naming them. */
export function rejectUnknownFields(body: Readonly<Record<string, unknown>>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw new BadRequestError(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => JSON.stringify(key)).join(', ')}; this request takes ${allowed.length > 0 ? allowed.join(', ') : 'no fields'}`);
}
