import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HttpFunction, Request, Response } from '@google-cloud/functions-framework';
import { allocatorEndpoints } from '../../client/allocator-url.ts';
import { OPERATIONS, operationUrl, type OperationId } from '../api/operations.ts';
import type { DashboardConfig } from '../config/service-config.ts';
import { INTERNAL_MESSAGE, InternalError, MethodNotAllowedError, NotFoundError, toHttpError } from '../errors.ts';
import { describeErrorChain, formatRequestLog, stdoutLog, type LogSink } from '../http/request-log.ts';

/** The page's files, and how each is served. */
const FILES: Readonly<Record<string, { file: string; type: string; cache: string }>> = {
  '/dashboard/': { file: 'index.html', type: 'text/html; charset=utf-8', cache: 'no-cache' },
  '/dashboard/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8', cache: 'public, max-age=300' },
  '/dashboard/destroyed.js': { file: 'destroyed.js', type: 'text/javascript; charset=utf-8', cache: 'public, max-age=300' },
  '/dashboard/logs.js': { file: 'logs.js', type: 'text/javascript; charset=utf-8', cache: 'public, max-age=300' },
  '/dashboard/progress.js': { file: 'progress.js', type: 'text/javascript; charset=utf-8', cache: 'public, max-age=300' },
  '/dashboard/events.js': { file: 'events.js', type: 'text/javascript; charset=utf-8', cache: 'public, max-age=300' },
  '/dashboard/app.css': { file: 'app.css', type: 'text/css; charset=utf-8', cache: 'public, max-age=300' },
};

/** The page is only read. */
const ALLOWED_METHODS = ['GET', 'HEAD'] as const;

/** Answers an error as every function does, through `toHttpError`; returns the status sent. */
function sendError(res: Response, error: unknown): number {
  const { status, headers, body } = toHttpError(error);
  res.status(status).set(headers).json(body);
  return status;
}

export function isDashboardPath(path: string): boolean {
  return path === '/dashboard' || path.startsWith('/dashboard/');
}

/** The operations the page calls. */
export const DASHBOARD_OPERATIONS = [
  'list',
  'create',
  'extend',
  'suspend',
  'resume',
  'restart',
  'reset',
  'destroy',
  'share',
  'unshare',
  'transfer',
  'destroyed',
  'restore',
  'logs',
  'events',
  'watch',
] as const satisfies readonly OperationId[];

/** What the page needs to know, as `/dashboard/config.json`: no secret, only where to sign in and how to call each operation. */
export function dashboardSettings(dashboard: DashboardConfig): {
  clientId: string;
  signInScript: string;
  operations: Record<(typeof DASHBOARD_OPERATIONS)[number], { url: string; method: string }>;
} {
  const endpoints = allocatorEndpoints(dashboard.allocator);
  const operations = Object.fromEntries(
    DASHBOARD_OPERATIONS.map((id) => [id, { url: operationUrl(endpoints, id), method: OPERATIONS[id].methods[0] }]),
  ) as Record<(typeof DASHBOARD_OPERATIONS)[number], { url: string; method: string }>;
  return { clientId: dashboard.clientId, signInScript: dashboard.signInScript, operations };
}

/** The page may load only itself, the sign-in script, and call only the allocator's functions. */
export function contentSecurityPolicy(dashboard: DashboardConfig): string {
  const signIn = new URL(dashboard.signInScript).origin;
  const api = [...new Set(Object.values(dashboardSettings(dashboard).operations).map(({ url }) => new URL(url).origin))].join(' ');
  return [
    "default-src 'self'",
    `script-src 'self' ${signIn}`,
    `connect-src 'self' ${api} ${signIn}`,
    `frame-src ${signIn}`,
    `style-src 'self' 'unsafe-inline' ${signIn}`,
    `img-src 'self' data: ${signIn}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Serves the dashboard at `/dashboard/` without a token: the page holds no
 * data, and every call it makes carries the signed-in person's ID token. The
 * files are read on the first request for them, so the API path never pays.
 */
export function makeDashboardHandler(options: { dir: string; dashboard: DashboardConfig; log?: LogSink }): HttpFunction {
  const log = options.log ?? stdoutLog;
  const cache = new Map<string, Promise<Buffer>>();
  const settings = JSON.stringify(dashboardSettings(options.dashboard));
  const csp = contentSecurityPolicy(options.dashboard);
  return async (req: Request, res: Response) => {
    const started = performance.now();
    const url = new URL(req.originalUrl ?? req.url, 'http://function');
    const path = url.pathname;
    let status = 200;
    let failure: unknown;
    try {
      res.set({
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cross-Origin-Opener-Policy': 'same-origin-allow-popups',
      });
      if (!(ALLOWED_METHODS as readonly string[]).includes(req.method)) {
        status = sendError(res, new MethodNotAllowedError(req.method, ALLOWED_METHODS));
      } else if (path === '/dashboard') {
        status = 301;
        res.status(301).set('Location', 'dashboard/').end(); // relative: the function may sit below a path prefix
      } else if (path === '/dashboard/config.json') {
        res.status(200).set({ 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-cache' }).send(settings);
      } else {
        const entry = FILES[path];
        if (!entry) {
          status = sendError(res, new NotFoundError(`no such file ${path}`));
        } else {
          if (!cache.has(entry.file)) cache.set(entry.file, readFile(join(options.dir, entry.file)));
          const body = await (cache.get(entry.file) as Promise<Buffer>);
          res
            .status(200)
            .set({
              'Content-Type': entry.type,
              'Cache-Control': entry.cache,
              ...(entry.file === 'index.html' ? { 'Content-Security-Policy': csp } : {}),
            })
            .send(body);
        }
      }
    } catch (error) {
      cache.clear();
      failure = error;
      status = sendError(res, new InternalError(INTERNAL_MESSAGE, { cause: error }));
    }
    log(
      formatRequestLog({
        function: 'list',
        method: req.method,
        url: path,
        status,
        latencyMs: Math.round(performance.now() - started),
        message: failure === undefined ? `dashboard ${status} ${path}` : 'dashboard file unreadable',
        ...(failure === undefined ? {} : { error: describeErrorChain(failure) }),
      }),
    );
  };
}
