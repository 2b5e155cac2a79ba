import type { HttpFunction } from '@google-cloud/functions-framework';
import { BadRequestError } from '../errors.ts';
import { destroyInstance } from '../executors/destroy.ts';
import { resetInstance, suspendInstance } from '../executors/lifecycle.ts';
import { runSweep } from '../executors/run-sweep.ts';
import { rejectUnknownFields } from '../http/body.ts';
import { makeHttpFunction, type RequestContext } from '../http/http-function.ts';
import type { LogSink } from '../http/request-log.ts';
import type { DestroyRuntime } from '../runtime/runtimes.ts';
import { checkInstanceName, parseWaitRequest } from './create-handler.ts';
import { executionContext, lifecycleSettings } from './execution-context.ts';

/** `{"name": "<instance>"}`: destroy and suspend. */
export function parseDestroyRequest(body: Readonly<Record<string, unknown>>, operation = 'destroy'): { name: string } {
  rejectUnknownFields(body, ['name']);
  const { name } = body;
  if (typeof name !== 'string' || name === '') throw new BadRequestError(`"name" is required: the instance to ${operation}`);
  return { name };
}

/** `POST /sweep {"dryRun": bool}` (optional). */
export function parseSweepRequest(body: Readonly<Record<string, unknown>>): { dryRun: boolean } {
  rejectUnknownFields(body, ['dryRun']);
  const { dryRun = false } = body;
  if (typeof dryRun !== 'boolean') throw new BadRequestError('"dryRun" must be true or false');
  return { dryRun };
}

/** The destroy function: `POST /` (or `DELETE /`) destroys an instance, `/suspend` and `/reset` stop or wipe one, `POST /sweep` (admins) cleans up. */
export function makeDestroyHandler(runtime: DestroyRuntime, log?: LogSink): HttpFunction {
  const { config } = runtime;
  const destroy = async ({ caller, body, noteInstance, report }: RequestContext) => {
    const { name } = parseDestroyRequest(body);
    noteInstance(name);
    await destroyInstance(
      await executionContext(runtime, report),
      lifecycleSettings(config),
      caller,
      checkInstanceName(config.serverName, name),
    );
    return { status: 200, body: { name, destroyed: true } };
  };
  const suspend = async ({ caller, body, noteInstance, report }: RequestContext) => {
    const { name } = parseDestroyRequest(body, 'suspend');
    noteInstance(name);
    return {
      status: 200,
      body: await suspendInstance(
        await executionContext(runtime, report),
        lifecycleSettings(config),
        caller,
        checkInstanceName(config.serverName, name),
      ),
    };
  };
  const reset = async ({ caller, body, noteInstance, report }: RequestContext) => {
    const request = parseWaitRequest(body, 'reset');
    noteInstance(request.name);
    const waitMs = Math.min(request.waitTimeoutMs ?? config.waitTimeoutMs, config.waitTimeoutMs);
    const context = await executionContext(runtime, report);
    return {
      status: 200,
      body: await resetInstance(context, lifecycleSettings(config), caller, {
        name: checkInstanceName(config.serverName, request.name),
        wait: request.wait,
        waitMs,
      }),
    };
  };
  const sweep = async ({ body, report, detail }: RequestContext) => {
    const { dryRun } = parseSweepRequest(body);
    const swept = await runSweep(await executionContext(runtime, report), {
      ...config.sweep,
      dryRun,
      lockMs: lifecycleSettings(config).lockMs,
    });
    // The counts the log-based metrics read (infra/monitoring/).
    if (!dryRun) {
      detail({
        sweepExpired: swept.expired.length,
        sweepOrphans: swept.orphanDisks.length + swept.orphanDeployments.length + swept.orphanSlots.length,
        sweepFailed: swept.failed.length,
        sweepDeferred: swept.deferred,
      });
    }
    return { status: 200, body: swept };
  };
  return makeHttpFunction({
    name: 'destroy',
    verifier: runtime.verifier,
    policy: config,
    ...(config.dashboard ? { corsOrigins: config.dashboard.origins } : {}),
    ...(log ? { log } : {}),
    routes: {
      '/': { methods: ['POST', 'DELETE'], requires: 'caller', operation: 'destroy instances', handle: destroy },
      '/suspend': { methods: ['POST'], requires: 'caller', operation: 'suspend instances', handle: suspend },
      '/reset': { methods: ['POST'], requires: 'caller', operation: 'reset instances', handle: reset },
      '/sweep': {
        methods: ['POST'],
        requires: 'admin',
        operation: "sweep (such as the cleanup scheduler's service account)",
        handle: sweep,
      },
    },
  });
}
