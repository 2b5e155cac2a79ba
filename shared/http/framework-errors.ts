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

/**
 * A body without a Content-Length is read and discarded this far before
 * reading stops: one a little over the cap still ends and gets a clean answer,
 * and the discarded chunks stay too few to grow the process.
 */
export const MAX_UNDECLARED_DRAINED_BYTES = 1024 * 1024;

const INSTALLED = Symbol.for('allocator.jsonFrameworkErrors');

interface ExpressApplication {
  handle(req: IncomingMessage, res: ServerResponse, callback?: (error?: unknown) => void): void;
  [INSTALLED]?: boolean;
}

const BODY_PARSERS = ['json', 'raw', 'text', 'urlencoded'] as const;
type BodyParsers = Record<(typeof BODY_PARSERS)[number], (options?: { limit?: number | string }) => unknown>;

/**
 * The functions framework parses bodies before our code runs and leaves
 * errors (malformed JSON, unmatched routes) to Express's final handler, which
 * answers in HTML, with a stack trace unless NODE_ENV=production. This puts a
 * JSON final handler on the framework's own Express, which also logs the
 * request; refuses bodies over MAX_BODY_BYTES by Content-Length before the
 * framework parses them; and caps the framework's body parsers at
 * MAX_BODY_BYTES, so a body without a Content-Length (chunked) or a compressed
 * one is counted as it streams and refused at the cap, not buffered up to the
 * framework's own 1 GB limit. Call it before the framework builds its server
 * (the entry files do, at load).
 */
export function installJsonFrameworkErrors(options: { functionName?: string; log?: LogSink } = {}): void {
  const frameworkRequire = createRequire(createRequire(import.meta.url).resolve('@google-cloud/functions-framework'));
  const application = (frameworkRequire('express') as { application: ExpressApplication }).application;
  if (application[INSTALLED]) return;
  capBodyParsers(frameworkRequire('body-parser') as BodyParsers);
  const log = options.log ?? stdoutLog;
  const functionName = options.functionName ?? process.env.FUNCTION_TARGET ?? 'function';
  const originalHandle = application.handle;
  application.handle = function handle(this: ExpressApplication, req, res, callback) {
    const started = performance.now();
    let answered = false;
    const reject = (error: unknown): void => {
      // Once: a body cut mid-stream is answered at the cut, and its parser reports it again when the socket closes.
      if (answered) return;
      answered = true;
      sendError(req, res, frameworkError(error, req), { functionName, log, started });
    };
    const declared = req.headers['content-length'];
    const length = Number(declared ?? 0);
    if (length > MAX_BODY_BYTES) {
      drainThen(req, res, length, () => reject(new PayloadTooLargeError(MAX_BODY_BYTES)));
      return;
    }
    originalHandle.call(this, req, res, callback ?? reject);
    if (declared === undefined) stopReadingPastDrain(req, res, () => reject(new PayloadTooLargeError(MAX_BODY_BYTES)));
  };
  application[INSTALLED] = true;
}

/**
 * The framework's parsers read through raw-body, which counts the bytes (after
 * decompression, so a small compressed body cannot expand past the cap) as
 * they arrive and, past `limit`, keeps none of them and fails with
 * `entity.too.large`, which frameworkError maps to our 413.
 */
function capBodyParsers(parsers: BodyParsers): void {
  for (const name of BODY_PARSERS) {
    const parser = parsers[name];
    parsers[name] = (parserOptions = {}) => parser({ ...parserOptions, limit: MAX_BODY_BYTES });
  }
}

/**
 * Past the cap, body-parser reads the rest of a body without a Content-Length
 * to its end, however long, to discard it. This stops reading at
 * MAX_UNDECLARED_DRAINED_BYTES and answers with Connection: close, so Node
 * closes the socket once the answer is sent. Counts only a body a parser
 * already reads: a listener of our own would start the stream before the
 * parser listens, and the parser would miss the first chunks.
 */
function stopReadingPastDrain(req: IncomingMessage, res: ServerResponse, answer: () => void): void {
  if (req.complete || req.listenerCount('data') === 0) return;
  let received = 0;
  const count = (chunk: Buffer): void => {
    received += chunk.length;
    if (received <= MAX_UNDECLARED_DRAINED_BYTES) return;
    req.off('data', count);
    req.pause();
    if (res.headersSent) return;
    // Closing with the body unread resets the connection, and a client still sending loses the answer: give it a second to read.
    res.on('finish', () => setTimeout(() => req.socket.destroy(), 1000).unref());
    answer();
  };
  req.on('data', count);
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
