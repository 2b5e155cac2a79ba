import type { HttpFunction } from '@google-cloud/functions-framework';
import { waitMsFor } from '../api/requests.ts';
import { BadRequestError } from '../errors.ts';
import { executeCreate, NameTakenError } from '../executors/create.ts';
import { extendInstance } from '../executors/extend.ts';
import { restartInstance, resumeInstance } from '../executors/lifecycle.ts';
import { shareInstance, unshareInstance, type AccessContext } from '../executors/share.ts';
import { transferInstance } from '../executors/transfer.ts';
import { makeHttpFunction, type OperationHandlers } from '../http/http-function.ts';
import type { LogSink } from '../http/request-log.ts';
import { planCreate } from '../plans/create-plan.ts';
import { planRestore, type RestorePlan } from '../plans/restore.ts';
import { restoreInstance } from '../executors/restore.ts';
import type { InstanceRecord } from '../model/record.ts';
import type { CreateRuntime } from '../runtime/runtimes.ts';
import { executionContext } from './execution-context.ts';

/** How many random names a create without a key draws before it gives up: a collision is 1 in 2^32 per instance. */
const NAME_TRIES = 3;

/** The create function: the operations the table puts on it (create, extend, resume, restart, restore, share, unshare, transfer), each handed to its executor. */
export function makeCreateHandler(options: { runtime: CreateRuntime; log?: LogSink }): HttpFunction {
  const { runtime } = options;
  const { config } = runtime;
  const accessContext = async (call: Parameters<typeof executionContext>[1]): Promise<AccessContext> => ({
    ...(await executionContext(runtime, call)),
    template: runtime.template,
    access: config,
  });
  const handlers: OperationHandlers<'create'> = {
    create: async (call, request) => {
      if (request.queue && request.idempotencyKey === undefined) {
        throw new BadRequestError(
          '"queue" needs an Idempotency-Key header: a request sent again with the same key keeps its place in line',
        );
      }
      const context = { ...(await executionContext(runtime, call)), signal: call.signal };
      for (let attempt = 1; ; attempt += 1) {
        const nowMs = runtime.clock.now();
        let planned = '';
        const planFor = (name?: string) => {
          const plan = planCreate({
            config,
            template: runtime.template,
            caller: call.caller,
            request: { ...request, waitMs: waitMsFor(request, config.waitTimeoutMs) },
            nowMs,
            random: runtime.random,
            ...(name === undefined ? {} : { name }),
          });
          call.noteInstance((planned = plan.name));
          return plan;
        };
        try {
          return await executeCreate(context, { planFor });
        } catch (error) {
          if (!(error instanceof NameTakenError) || attempt >= NAME_TRIES) throw error;
          call.report(`${planned} is taken (${error.message}); trying another name`);
        }
      }
    },
    extend: async (call, request) => await extendInstance(await executionContext(runtime, call), request),
    resume: async (call, request) =>
      await resumeInstance(await executionContext(runtime, call), { ...request, waitMs: waitMsFor(request, config.waitTimeoutMs) }),
    restart: async (call, request) =>
      await restartInstance(await executionContext(runtime, call), { ...request, waitMs: waitMsFor(request, config.waitTimeoutMs) }),
    share: async (call, request) => await shareInstance(await accessContext(call), request),
    unshare: async (call, request) => await unshareInstance(await accessContext(call), request),
    transfer: async (call, request) => await transferInstance(await accessContext(call), request),
    restore: async (call, request) => {
      const plan = (record: InstanceRecord): RestorePlan =>
        planRestore({
          config,
          template: runtime.template,
          record,
          caller: call.caller,
          request: { ...request, waitMs: waitMsFor(request, config.waitTimeoutMs) },
          nowMs: runtime.clock.now(),
          random: runtime.random,
        });
      return await restoreInstance(await executionContext(runtime, call), { name: request.name, plan });
    },
  };
  return makeHttpFunction({
    function: 'create',
    handlers,
    verifier: runtime.verifier,
    policy: config,
    parameters: config.parameters,
    ...(config.dashboard ? { corsOrigins: config.dashboard.origins } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
}
