import type { HttpFunction } from '@google-cloud/functions-framework';
import { waitMsFor } from '../api/requests.ts';
import { destroyInstance } from '../executors/destroy.ts';
import { resetInstance, suspendInstance } from '../executors/lifecycle.ts';
import { runSweep } from '../executors/run-sweep.ts';
import { makeHttpFunction, type OperationHandlers } from '../http/http-function.ts';
import type { LogSink } from '../http/request-log.ts';
import type { DestroyRuntime } from '../runtime/runtimes.ts';
import { executionContext } from './execution-context.ts';

/** The destroy function: the operations the table puts on it (destroy, suspend, reset, sweep), each handed to its executor. */
export function makeDestroyHandler(options: { runtime: DestroyRuntime; log?: LogSink }): HttpFunction {
  const { runtime } = options;
  const { config } = runtime;
  const handlers: OperationHandlers<'destroy'> = {
    destroy: async (call, request) => await destroyInstance(await executionContext(runtime, call), request),
    suspend: async (call, request) => await suspendInstance(await executionContext(runtime, call), request),
    reset: async (call, request) =>
      await resetInstance(await executionContext(runtime, call), { ...request, waitMs: waitMsFor(request, config.waitTimeoutMs) }),
    sweep: async (call, request) => {
      const swept = await runSweep(await executionContext(runtime, call), request);
      // The counts the log-based metrics read (infra/monitoring/).
      if (!request.dryRun) {
        call.detail({
          sweepExpired: swept.expired.length,
          sweepOrphans: swept.orphanDisks.length + swept.orphanDeployments.length + swept.orphanSlots.length,
          sweepFailed: swept.failed.length,
          sweepDeferred: swept.deferred,
        });
      }
      return swept;
    },
  };
  return makeHttpFunction({
    function: 'destroy',
    handlers,
    verifier: runtime.verifier,
    policy: config,
    ...(config.dashboard ? { corsOrigins: config.dashboard.origins } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
}
