import type { HttpFunction } from '@google-cloud/functions-framework';
import { BadRequestError } from '../errors.ts';
import { listInstances } from '../executors/list.ts';
import { makeHttpFunction } from '../http/http-function.ts';
import type { LogSink } from '../http/request-log.ts';
import type { ListRuntime } from '../runtime/runtimes.ts';
import { isDashboardPath, makeDashboardHandler } from './dashboard.ts';

/** `?all=true` (admins only). */
export function parseListQuery(query: URLSearchParams): { all: boolean } {
  const unknown = [...query.keys()].filter((key) => key !== 'all');
  if (unknown.length > 0) throw new BadRequestError(`unknown query parameter ${unknown.join(', ')}; list takes only all=true`);
  const all = query.get('all');
  if (all !== null && all !== 'true' && all !== 'false') throw new BadRequestError('"all" must be true or false');
  return { all: all === 'true' };
}

/**
 * The list function: `GET /`, or `GET /?all=true` for admins; and, when the
 * dashboard is configured, its page at `/dashboard/` from `dashboardDir`.
 */
export function makeListHandler(runtime: ListRuntime, log?: LogSink, dashboardDir?: string): HttpFunction {
  const { dashboard } = runtime.config;
  const api = makeHttpFunction({
    name: 'list',
    verifier: runtime.verifier,
    policy: runtime.config,
    ...(dashboard ? { corsOrigins: dashboard.origins } : {}),
    ...(log ? { log } : {}),
    routes: {
      '/': {
        methods: ['GET'],
        requires: (query) => (query.get('all') === 'true' ? 'admin' : 'caller'),
        operation: 'list all instances',
        handle: async ({ caller, query }) => ({
          status: 200,
          body: { instances: await listInstances(await runtime.cluster(), runtime.clock, runtime.config, caller, parseListQuery(query)) },
        }),
      },
    },
  });
  if (!dashboard || dashboardDir === undefined) return api;
  const page = makeDashboardHandler({ dir: dashboardDir, dashboard, ...(log ? { log } : {}) });
  return (req, res) => (isDashboardPath(new URL(req.originalUrl ?? req.url, 'http://function').pathname) ? page(req, res) : api(req, res));
}
