import type { HttpFunction, Request, Response } from '@google-cloud/functions-framework';
import { openApiDocument } from '../api/openapi.ts';
import { listInstances } from '../executors/list.ts';
import { listDestroyed } from '../executors/list-destroyed.ts';
import { readEvents } from '../executors/events.ts';
import { readLogs } from '../executors/logs.ts';
import { WATCH_RECHECK_MS, watchInstances } from '../executors/watch.ts';
import { makeHttpFunction, StreamedAnswer } from '../http/http-function.ts';
import { outsideDomain } from '../http/outside-domain.ts';
import { FOLLOW_UNTIL_HEADER } from '../api/log-fields.ts';
import { FOLLOW_LIMIT_MS } from '../plans/log-query.ts';
import { deploymentEventsFor, podLogsFor } from '../runtime/list-runtime.ts';
import { formatRequestLog, stdoutLog, type LogSink } from '../http/request-log.ts';
import type { ListRuntime } from '../runtime/runtimes.ts';
import { isDashboardPath, makeDashboardHandler } from './dashboard.ts';
import { callerContext } from './execution-context.ts';

/** Where list publishes the OpenAPI description of the whole API, without a token: it holds nothing secret. */
export const OPENAPI_PATH = '/openapi.json';

/**
 * The list function: the list, destroyed-list, logs, events and watch operations; `/openapi.json`; and, when the
 * dashboard is configured, its page at `/dashboard/` from `dashboardDir`.
 */
export function makeListHandler(options: { runtime: ListRuntime; log?: LogSink; dashboardDir?: string }): HttpFunction {
  const { runtime } = options;
  const { dashboard } = runtime.config;
  const podLogs = runtime.podLogs ?? podLogsFor(runtime.config);
  const deploymentEvents = runtime.deploymentEvents ?? deploymentEventsFor(runtime.config);
  const api = makeHttpFunction({
    function: 'list',
    handlers: {
      list: async (call, request) => ({
        instances: await listInstances(await callerContext(runtime, call), request),
        ...(request.all ? { pool: { size: runtime.config.diskPool.size } } : {}),
      }),
      destroyed: async (call, request) => ({
        destroyed: await listDestroyed(
          { ...(await callerContext(runtime, call)), restoreWindowMs: runtime.config.restoreWindowMs },
          request,
        ),
        restoreWindowSeconds: Math.round(runtime.config.restoreWindowMs / 1000),
      }),
      logs: async (call, request) => {
        const context = {
          ...(await callerContext(runtime, call)),
          podLogs: await podLogs(),
          followLimitMs: runtime.followLimitMs ?? FOLLOW_LIMIT_MS,
          signal: call.signal,
        };
        // The log stream, its connection to the API server included, is set up outside the request's domain, so that
        // passing on each chunk makes no domain bookkeeping (outsideDomain).
        const { stream, followUntil } = await outsideDomain(() => readLogs(context, request));
        return new StreamedAnswer(stream, followUntil ? { [FOLLOW_UNTIL_HEADER]: followUntil } : {});
      },
      events: async (call, request) => ({ events: await readEvents(await callerContext(runtime, call), request) }),
      watch: async (call, request) => {
        const { stream, until } = await watchInstances(
          {
            ...(await callerContext(runtime, call)),
            deploymentEvents: await deploymentEvents(),
            limitMs: runtime.watchLimitMs ?? FOLLOW_LIMIT_MS,
            recheckMs: WATCH_RECHECK_MS,
            signal: call.signal,
          },
          request,
        );
        return new StreamedAnswer(stream, { [FOLLOW_UNTIL_HEADER]: until });
      },
    },
    verifier: runtime.verifier,
    policy: runtime.config,
    ...(dashboard ? { corsOrigins: dashboard.origins } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const description = makeOpenApiHandler(runtime.config, options.log ?? stdoutLog);
  const page =
    dashboard && options.dashboardDir !== undefined
      ? makeDashboardHandler({ dir: options.dashboardDir, dashboard, ...(options.log ? { log: options.log } : {}) })
      : undefined;
  return (req, res) => {
    const path = new URL(req.originalUrl ?? req.url, 'http://function').pathname;
    if (path === OPENAPI_PATH && (req.method === 'GET' || req.method === 'HEAD')) return description(req, res);
    if (page && isDashboardPath(path)) return page(req, res);
    return api(req, res);
  };
}

/** Serves the OpenAPI description, made once on first request. */
function makeOpenApiHandler(config: ListRuntime['config'], log: LogSink): HttpFunction {
  let body: string | undefined;
  return (req: Request, res: Response) => {
    const started = performance.now();
    body ??= JSON.stringify(
      openApiDocument({
        version: config.version,
        ...(config.url ? { allocator: config.url } : {}),
        ...(config.cliSignIn ? { signIn: config.cliSignIn } : {}),
        parameters: config.parameters,
      }),
    );
    res
      .status(200)
      .set({
        'Content-Type': 'application/json; charset=utf-8',
        'Cache-Control': 'public, max-age=300',
        'Access-Control-Allow-Origin': '*',
      })
      .send(body);
    log(
      formatRequestLog({
        function: 'list',
        method: req.method,
        url: OPENAPI_PATH,
        status: 200,
        latencyMs: Math.round(performance.now() - started),
        message: `list 200 ${OPENAPI_PATH}`,
      }),
    );
  };
}
