import type { HttpFunction } from '@google-cloud/functions-framework';
import { BadRequestError } from '../errors.ts';
import { executeCreate } from '../executors/create.ts';
import { extendInstance } from '../executors/extend.ts';
import { resumeInstance } from '../executors/lifecycle.ts';
import { rejectUnknownFields } from '../http/body.ts';
import { makeHttpFunction, type RequestContext } from '../http/http-function.ts';
import type { LogSink } from '../http/request-log.ts';
import { isInstanceNameOf } from '../instances/naming.ts';
import { planCreate, type CreateRequest } from '../plans/create-plan.ts';
import { extensionExpiry } from '../plans/lifetime.ts';
import type { CreateRuntime } from '../runtime/runtimes.ts';
import { executionContext, lifecycleSettings } from './execution-context.ts';

function optionalSeconds(body: Readonly<Record<string, unknown>>, field: string, min: number): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw new BadRequestError(`"${field}" must be a whole number of seconds >= ${min}`);
  return value;
}

/** `{"wait": bool, "waitTimeoutSeconds": n, "lifetimeSeconds": n}`, all optional. */
export function parseCreateRequest(body: Readonly<Record<string, unknown>>): {
  wait: boolean;
  waitTimeoutMs?: number;
  lifetimeSeconds?: number;
} {
  rejectUnknownFields(body, ['wait', 'waitTimeoutSeconds', 'lifetimeSeconds']);
  const { wait = true } = body;
  if (typeof wait !== 'boolean') throw new BadRequestError('"wait" must be true or false');
  const waitTimeoutSeconds = optionalSeconds(body, 'waitTimeoutSeconds', 1);
  const lifetimeSeconds = optionalSeconds(body, 'lifetimeSeconds', 0);
  return {
    wait,
    ...(waitTimeoutSeconds === undefined ? {} : { waitTimeoutMs: waitTimeoutSeconds * 1000 }),
    ...(lifetimeSeconds === undefined ? {} : { lifetimeSeconds }),
  };
}

/** `{"name": "<instance>", "lifetimeSeconds": n}` (the lifetime optional). */
export function parseExtendRequest(body: Readonly<Record<string, unknown>>): { name: string; lifetimeSeconds?: number } {
  rejectUnknownFields(body, ['name', 'lifetimeSeconds']);
  const { name } = body;
  if (typeof name !== 'string' || name === '') throw new BadRequestError('"name" is required: the instance to extend');
  const lifetimeSeconds = optionalSeconds(body, 'lifetimeSeconds', 1);
  return { name, ...(lifetimeSeconds === undefined ? {} : { lifetimeSeconds }) };
}

/** `{"name": "<instance>", "wait": bool, "waitTimeoutSeconds": n}`: resume and reset, which may wait as create does. */
export function parseWaitRequest(
  body: Readonly<Record<string, unknown>>,
  operation: string,
): { name: string; wait: boolean; waitTimeoutMs?: number } {
  rejectUnknownFields(body, ['name', 'wait', 'waitTimeoutSeconds']);
  const { name, wait = true } = body;
  if (typeof name !== 'string' || name === '') throw new BadRequestError(`"name" is required: the instance to ${operation}`);
  if (typeof wait !== 'boolean') throw new BadRequestError('"wait" must be true or false');
  const waitTimeoutSeconds = optionalSeconds(body, 'waitTimeoutSeconds', 1);
  return { name, wait, ...(waitTimeoutSeconds === undefined ? {} : { waitTimeoutMs: waitTimeoutSeconds * 1000 }) };
}

/** The optional `Idempotency-Key` header: 1 to 255 printable ASCII characters. */
export function parseIdempotencyKey(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const key = Array.isArray(value) ? value[0] : value;
  if (key === undefined || !/^[\x21-\x7e]{1,255}$/.test(key))
    throw new BadRequestError('Idempotency-Key must be 1 to 255 printable ASCII characters without spaces');
  return key;
}

/** A name this allocator could have made, or a 400 that shows what they look like. */
export function checkInstanceName(serverName: string, name: string): string {
  if (!isInstanceNameOf(serverName, name))
    throw new BadRequestError(`"${name.slice(0, 100)}" is not an instance name of this allocator; they look like ${serverName}-1a2b3c4d`);
  return name;
}

/** The create function: `POST /` makes an instance, `POST /extend` moves its expiry, `POST /resume` scales a suspended one back. */
export function makeCreateHandler(runtime: CreateRuntime, log?: LogSink): HttpFunction {
  const { config } = runtime;
  const create = async ({ caller, body, headers, noteInstance, report }: RequestContext) => {
    const idempotencyKey = parseIdempotencyKey(headers['idempotency-key']);
    const request: CreateRequest = { ...parseCreateRequest(body), ...(idempotencyKey ? { idempotencyKey } : {}) };
    const plan = planCreate({ config, template: runtime.template, caller, request, nowMs: runtime.clock.now(), random: runtime.random });
    noteInstance(plan.name);
    const context = { ...(await executionContext(runtime, report)), graceMs: config.sweep.graceMs };
    return { status: 201, body: await executeCreate(plan, context) };
  };
  const extend = async ({ caller, body, noteInstance }: RequestContext) => {
    const request = parseExtendRequest(body);
    noteInstance(request.name);
    const name = checkInstanceName(config.serverName, request.name);
    const expiresAt = extensionExpiry(request.lifetimeSeconds, config.lifetime, runtime.clock.now());
    return { status: 200, body: await extendInstance(await runtime.cluster(), runtime.clock, config, caller, { name, expiresAt }) };
  };
  const resume = async ({ caller, body, noteInstance, report }: RequestContext) => {
    const request = parseWaitRequest(body, 'resume');
    noteInstance(request.name);
    const context = await executionContext(runtime, report);
    const waitMs = Math.min(request.waitTimeoutMs ?? config.waitTimeoutMs, config.waitTimeoutMs);
    return {
      status: 200,
      body: await resumeInstance(context, lifecycleSettings(config), caller, {
        name: checkInstanceName(config.serverName, request.name),
        wait: request.wait,
        waitMs,
      }),
    };
  };
  return makeHttpFunction({
    name: 'create',
    verifier: runtime.verifier,
    policy: config,
    ...(config.dashboard ? { corsOrigins: config.dashboard.origins } : {}),
    ...(log ? { log } : {}),
    routes: {
      '/': { methods: ['POST'], requires: 'caller', operation: 'create instances', handle: create },
      '/extend': { methods: ['POST'], requires: 'caller', operation: 'extend instances', handle: extend },
      '/resume': { methods: ['POST'], requires: 'caller', operation: 'resume instances', handle: resume },
    },
  });
}
