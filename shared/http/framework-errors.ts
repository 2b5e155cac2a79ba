import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AllocatorError,
  BadRequestError,
  INTERNAL_MESSAGE,
  InternalError,
  NotFoundError,
  PayloadTooLargeError,
  toHttpError,
} from '../errors.ts';
import { describeErrorChain, formatRequestLog, stdoutLog, type LogSink } from './request-log.ts';

/** The largest request body any function accepts. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * An oversized body up to this size is read and discarded before the 413 is
 * sent: answering first and closing while the client still sends makes the
 * kernel reset the connection, and the client loses the answer.
 */
export const MAX_DRAINED_BYTES = 8 * 1024 * 1024;

const INSTALLED = Symbol.for('allocator.jsonFrameworkErrors');

interface ExpressApplication {
  handle(req: IncomingMessage, res: ServerResponse, callback?: (error?: unknown) => void): void;
  [INSTALLED]?: boolean;
}

/**
 * The functions framework parses bodies before our code runs and leaves
 * errors (malformed JSON, unmatched routes) to Express's final handler, which
 * answers in HTML, with a stack trace unless NODE_ENV=production. This puts a
 * JSON final handler on the framework's own Express, which also logs the
 * request, and refuses bodies over MAX_BODY_BYTES by Content-Length before
 * the framework parses them. Call it before the framework builds its server
 * (the entry files do, at load).
 */
export function installJsonFrameworkErrors(options: { functionName?: string; log?: LogSink } = {}): void {
  const frameworkRequire = createRequire(createRequire(import.meta.url).resolve('@google-cloud/functions-framework'));
  const application = (frameworkRequire('express') as { application: ExpressApplication }).application;
  if (application[INSTALLED]) return;
  const log = options.log ?? stdoutLog;
  const functionName = options.functionName ?? process.env.FUNCTION_TARGET ?? 'function';
  const originalHandle = application.handle;
  application.handle = function handle(this: ExpressApplication, req, res, callback) {
    const started = performance.now();
    const reject = (error: unknown): void => sendError(req, res, frameworkError(error, req), { functionName, log, started });
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > MAX_BODY_BYTES) {
      drainThen(req, res, length, () => reject(new PayloadTooLargeError(MAX_BODY_BYTES)));
      return;
    }
    originalHandle.call(this, req, res, callback ?? reject);
  };
  application[INSTALLED] = true;
}

/** Reads and discards the body (up to MAX_DRAINED_BYTES), then answers; a larger one is answered with Connection: close. */
function drainThen(req: IncomingMessage, res: ServerResponse, length: number, answer: () => void): void {
  if (length > MAX_DRAINED_BYTES) {
    res.setHeader('Connection', 'close');
    answer();
    req.resume();
    return;
  }
  req.on('error', () => undefined);
  req.on('end', answer);
  req.resume();
}

function frameworkError(error: unknown, req: IncomingMessage): AllocatorError {
  if (error instanceof AllocatorError) return error;
  if (error === undefined) return new NotFoundError(`no route for ${req.method} ${req.url}`);
  const { status, type } = error as { status?: number; type?: string };
  if (status === 413 || type === 'entity.too.large') return new PayloadTooLargeError(MAX_BODY_BYTES);
  if (status !== undefined && status >= 400 && status < 500)
    return new BadRequestError(
      type === 'entity.parse.failed' ? 'request body is not valid JSON' : `malformed request (${type ?? status})`,
      { cause: error },
    );
  return new InternalError(INTERNAL_MESSAGE, { cause: error });
}

function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  error: AllocatorError,
  context: { functionName: string; log: LogSink; started: number },
): void {
  const { status, body, headers } = toHttpError(error);
  const name = context.functionName;
  context.log(
    formatRequestLog({
      function: name,
      method: req.method ?? '',
      url: req.url ?? '',
      status,
      latencyMs: Math.round(performance.now() - context.started),
      message: `${name} ${status} (refused by the framework)`,
      ...(typeof req.headers['user-agent'] === 'string' ? { userAgent: req.headers['user-agent'] } : {}),
      error: describeErrorChain(error),
    }),
  );
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
