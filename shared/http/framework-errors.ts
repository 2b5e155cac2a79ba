import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AllocatorError, BadRequestError, NotFoundError, PayloadTooLargeError, toHttpError } from '../errors.ts';

/** The largest request body any function accepts. */
export const MAX_BODY_BYTES = 64 * 1024;

const INSTALLED = Symbol.for('allocator.jsonFrameworkErrors');

interface ExpressApplication {
  handle(req: IncomingMessage, res: ServerResponse, callback?: (error?: unknown) => void): void;
  [INSTALLED]?: boolean;
}

/**
 * The functions framework parses bodies before our code runs and leaves
 * errors (malformed JSON, unmatched routes) to Express's final handler, which
 * answers in HTML, with a stack trace unless NODE_ENV=production. This puts a
 * JSON final handler on the framework's own Express, and refuses bodies over
 * MAX_BODY_BYTES by Content-Length before anything reads them. Call it before
 * the framework builds its server (the entry files do, at load).
 */
export function installJsonFrameworkErrors(): void {
  const frameworkRequire = createRequire(createRequire(import.meta.url).resolve('@google-cloud/functions-framework'));
  const application = (frameworkRequire('express') as { application: ExpressApplication }).application;
  if (application[INSTALLED]) return;
  const originalHandle = application.handle;
  application.handle = function handle(this: ExpressApplication, req, res, callback) {
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
      sendError(res, new PayloadTooLargeError(MAX_BODY_BYTES));
      return;
    }
    originalHandle.call(this, req, res, callback ?? ((error?: unknown) => sendError(res, frameworkError(error, req))));
  };
  application[INSTALLED] = true;
}

function frameworkError(error: unknown, req: IncomingMessage): AllocatorError {
  if (error === undefined) return new NotFoundError(`no route for ${req.method} ${req.url}`);
  const { status, type } = error as { status?: number; type?: string };
  if (status === 413 || type === 'entity.too.large') return new PayloadTooLargeError(MAX_BODY_BYTES);
  if (status !== undefined && status >= 400 && status < 500) return new BadRequestError(type === 'entity.parse.failed' ? 'request body is not valid JSON' : `malformed request (${type ?? status})`);
  return new AllocatorError(500, 'INTERNAL', 'internal error; see the function logs');
}

function sendError(res: ServerResponse, error: AllocatorError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const { status, body, headers } = toHttpError(error);
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
