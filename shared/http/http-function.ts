import type { Readable } from 'node:stream';
import type { HttpFunction, Request, Response } from '@google-cloud/functions-framework';
import type { CallerIdentity } from '../auth/identity.ts';
import { OPERATIONS, operationsOf, type FunctionName, type OperationId, type OperationOf, type RequestOf } from '../api/operations.ts';
import type { ParameterDeclaration } from '../api/parameters.ts';
import { asksForAdmin, parseRequest } from '../api/requests.ts';
import { authorize, checkMayChangeAccess, type AccessPolicy } from '../auth/policy.ts';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import { MethodNotAllowedError, NotFoundError, PayloadTooLargeError, PermissionDeniedError, toHttpError } from '../errors.ts';
import { FOLLOW_UNTIL_HEADER } from '../api/log-fields.ts';
import { asksForProgress, PROGRESS_CONTENT_TYPE, progressLine, type ProgressSink } from '../api/progress.ts';
import { parseBody } from './body.ts';
import { sendStream } from './send-stream.ts';
import { outsideDomain } from './outside-domain.ts';
import { MAX_BODY_BYTES } from './framework-errors.ts';
import { describeErrorChain, formatRequestLog, stdoutLog, type LogSink } from './request-log.ts';

/** What an operation's handler gets besides its parsed request: who calls, and the request's log line. */
export interface CallContext {
  readonly caller: CallerIdentity;
  /** Names the instance in the request log once it is known (requests with a `name` are named already). */
  noteInstance(name: string): void;
  /** Adds an event to the request's log line (an undo that failed, say). */
  report(event: string): void;
  /** Adds numbers to the request's log line, under `details`, for log-based metrics (the sweep's counts). */
  detail(values: Readonly<Record<string, number>>): void;
  /** Aborted when the caller closes the connection before the answer: a queued create stops waiting. */
  readonly signal: AbortSignal;
  /** Present when the caller asked for the progress stream: each step goes out as a line as it happens. */
  readonly progress?: ProgressSink;
}

/**
 * An answer sent as it comes rather than as one JSON document: its bytes are
 * piped to the response, read from `stream` only as fast as the caller takes
 * them. The table's `answer.contentType` says what they are.
 */
export class StreamedAnswer {
  readonly stream: Readable;
  /** Headers of the answer besides its type (logs' `X-Allocator-Follow-Until`). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(stream: Readable, headers: Readonly<Record<string, string>> = {}) {
    this.stream = stream;
    this.headers = headers;
  }
}

/** Runs one operation: its parsed request in, its answer's body (or a StreamedAnswer) out; the status is the table's. */
export type OperationHandler<K extends OperationId> = (call: CallContext, request: RequestOf<K>) => Promise<unknown>;

/** Every operation the function `F` serves, each with its handler. */
export type OperationHandlers<F extends FunctionName> = { readonly [K in OperationOf<F>]: OperationHandler<K> };

/**
 * Wraps a function's operations, as the table in `shared/api/operations.ts`
 * declares them, as an HTTP function: finds the operation by path and
 * method, checks the body size, the caller's token and what the access
 * policy allows, then parses the request by the table and runs the handler.
 * Every failure is answered as a Google API JSON error through `toHttpError`;
 * one log line per request.
 */
export function makeHttpFunction<F extends FunctionName>(options: {
  function: F;
  handlers: OperationHandlers<F>;
  verifier: TokenVerifier;
  policy: AccessPolicy;
  /** Origins whose pages may call (the dashboard's): preflights are answered and responses carry CORS headers for them. */
  corsOrigins?: readonly string[];
  /** What create's `parameters` may name (`ALLOCATOR_PARAMETERS`); none by default. */
  parameters?: readonly ParameterDeclaration[];
  log?: LogSink;
}): HttpFunction {
  const log = options.log ?? stdoutLog;
  const name = options.function;
  const routes = routesOf(name);
  const paths = [...routes].map(([path, byMethod]) => `${[...byMethod.keys()].join('/')} ${path}`).join(', ');
  const settings = { serverName: options.policy.serverName, parameters: options.parameters ?? [] };
  return async (req: Request, res: Response) => {
    const started = performance.now();
    let caller: string | undefined;
    let instance: string | undefined;
    let status = 500;
    let failure: unknown;
    const events: string[] = [];
    const details: Record<string, number> = {};
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableEnded) gone.abort();
    });
    try {
      const url = new URL(req.originalUrl ?? req.url, 'http://function');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const byMethod = routes.get(path);
      const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
      if (origin !== undefined && options.corsOrigins?.includes(origin)) res.set(corsHeaders(origin));
      if (req.method === 'OPTIONS' && origin !== undefined) {
        if (!options.corsOrigins?.includes(origin)) {
          throw new PermissionDeniedError(
            `pages at ${origin} may not call this allocator; its admins can add the origin to ALLOCATOR_DASHBOARD_ORIGINS`,
          );
        }
        status = 204;
        res
          .status(204)
          .set(PREFLIGHT_HEADERS)
          .set('Access-Control-Allow-Methods', [...(byMethod?.keys() ?? ['GET', 'POST'])].join(', '))
          .end();
        return;
      }
      if (!byMethod) throw new NotFoundError(`no such path ${path}: ${name} takes ${paths}`);
      const operation = byMethod.get(req.method);
      if (!operation) throw new MethodNotAllowedError(req.method, [...byMethod.keys()]);
      if (req.rawBody && req.rawBody.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
      const identity = await options.verifier.verify(req.headers);
      caller = identity.email;
      const spec = OPERATIONS[operation];
      authorize(options.policy, identity, asksForAdmin(operation, url.searchParams) ? 'admin' : spec.requires, spec.adminAction);
      checkMayChangeAccess(identity, operation);
      const request = parseRequest(operation, { body: parseBody(req.rawBody), query: url.searchParams, headers: req.headers }, settings);
      if ('name' in request && typeof request.name === 'string') instance = request.name;
      const handler = options.handlers[operation as OperationOf<F>] as OperationHandler<typeof operation>;
      const call: CallContext = {
        caller: identity,
        noteInstance: (noted) => {
          instance = noted;
        },
        report: (event) => void events.push(event),
        detail: (values) => void Object.assign(details, values),
        signal: gone.signal,
      };
      if ('progress' in spec && spec.progress && asksForProgress(req.headers.accept)) {
        status = await sendProgress(res, {
          run: (progress) => handler({ ...call, progress }, request),
          answerStatus: spec.answer.status,
          instance: () => instance,
          failed: (error) => {
            failure = error;
          },
        });
        return;
      }
      const answer = await handler(call, request);
      status = spec.answer.status;
      if (answer instanceof StreamedAnswer) {
        const contentType: string = ('contentType' in spec.answer ? spec.answer.contentType : undefined) ?? 'application/octet-stream';
        res
          .status(status)
          .set({ ...answer.headers, 'Content-Type': contentType, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
        res.flushHeaders();
        // Outside the request's domain, as the stream is set up, so that nothing sent re-enters it (outsideDomain).
        await outsideDomain(() => sendStream(answer.stream, res, (event) => void events.push(event)));
      } else res.status(status).json(answer);
    } catch (error) {
      failure = error;
      const mapped = toHttpError(error);
      // A stream that fails once its headers are out is cut short (sendStream destroyed the response): the log says why.
      if (!res.headersSent) {
        status = mapped.status;
        res.status(status).set(mapped.headers).json(mapped.body);
      }
    } finally {
      log(
        formatRequestLog({
          function: name,
          method: req.method,
          url: req.originalUrl ?? req.url,
          status,
          latencyMs: Math.round(performance.now() - started),
          message: `${name} ${status}${instance ? ` ${instance}` : ''}`,
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

/**
 * Runs an operation that streams its steps: the answer's headers go out at
 * once (the operation's own success status, NDJSON), then one line per step
 * as `run` reports it, then one line with the status and body the answer
 * would have had, error or not. Answers that status, for the request's log.
 */
async function sendProgress(
  res: Response,
  operation: {
    run: (progress: ProgressSink) => Promise<unknown>;
    answerStatus: number;
    /** The instance's name once known: each line carries it. */
    instance: () => string | undefined;
    failed: (error: unknown) => void;
  },
): Promise<number> {
  res
    .status(operation.answerStatus)
    .set({ 'Content-Type': PROGRESS_CONTENT_TYPE, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.flushHeaders();
  const send = (line: object): void => {
    if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify(line)}\n`);
  };
  let last: { status: number; body: object };
  try {
    const answer = await operation.run((step, detail = {}) =>
      send(progressLine(step, detail, { at: new Date(), name: operation.instance() })),
    );
    last = { status: operation.answerStatus, body: { answer } };
  } catch (error) {
    operation.failed(error);
    const mapped = toHttpError(error);
    const retryAfter = mapped.headers['Retry-After'];
    last = {
      status: mapped.status,
      body: { ...mapped.body, ...(retryAfter === undefined ? {} : { retryAfterSeconds: Number(retryAfter) }) },
    };
  }
  send({ at: new Date().toISOString(), status: last.status, ...last.body });
  res.end();
  return last.status;
}

/** The function's operations by path, then by method. */
function routesOf(fn: FunctionName): Map<string, Map<string, OperationId>> {
  const routes = new Map<string, Map<string, OperationId>>();
  for (const operation of operationsOf(fn)) {
    const spec = OPERATIONS[operation];
    const byMethod = routes.get(spec.path) ?? new Map<string, OperationId>();
    for (const method of spec.methods) byMethod.set(method, operation);
    routes.set(spec.path, byMethod);
  }
  return routes;
}

/** What a preflight allows besides the method: the headers the dashboard and the client send. */
const PREFLIGHT_HEADERS = {
  'Access-Control-Allow-Headers': 'authorization, content-type, idempotency-key, x-serverless-authorization',
  'Access-Control-Max-Age': '3600',
};

function corsHeaders(origin: string): Record<string, string> {
  return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': `Retry-After, ${FOLLOW_UNTIL_HEADER}`, Vary: 'Origin' };
}
