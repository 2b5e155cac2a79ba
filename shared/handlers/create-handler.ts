import type { HttpFunction } from '@google-cloud/functions-framework';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import { createInstance } from '../allocator/create-instance.ts';
import type { AllocatorDeps } from '../allocator/deps.ts';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { extendInstance } from '../allocator/extend-instance.ts';
import { makeHttpFunction, rejectUnknownFields } from '../http/http-function.ts';
import type { LogSink } from '../http/request-log.ts';

function optionalSeconds(body: Readonly<Record<string, unknown>>, field: string, min: number): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new BadRequestError(`"${field}" must be a whole number of seconds >= ${min}`);
  return value;
}

/** `{"wait": bool, "waitTimeoutSeconds": n, "lifetimeSeconds": n}`, all optional. */
export function parseCreateRequest(body: Readonly<Record<string, unknown>>): { wait: boolean; waitTimeoutMs?: number; lifetimeSeconds?: number } {
  rejectUnknownFields(body, ['wait', 'waitTimeoutSeconds', 'lifetimeSeconds']);
  const { wait = true } = body;
  if (typeof wait !== 'boolean') throw new BadRequestError('"wait" must be true or false');
  const waitTimeoutSeconds = optionalSeconds(body, 'waitTimeoutSeconds', 1);
  const lifetimeSeconds = optionalSeconds(body, 'lifetimeSeconds', 0);
  return { wait, ...(waitTimeoutSeconds === undefined ? {} : { waitTimeoutMs: waitTimeoutSeconds * 1000 }), ...(lifetimeSeconds === undefined ? {} : { lifetimeSeconds }) };
}

/** `POST /extend {"name": "<instance>", "lifetimeSeconds": n}` (the lifetime optional). */
export function parseExtendRequest(body: Readonly<Record<string, unknown>>): { name: string; lifetimeSeconds?: number } {
  rejectUnknownFields(body, ['name', 'lifetimeSeconds']);
  const { name } = body;
  if (typeof name !== 'string' || name === '') throw new BadRequestError('"name" is required: the instance to extend');
  const lifetimeSeconds = optionalSeconds(body, 'lifetimeSeconds', 1);
  return { name, ...(lifetimeSeconds === undefined ? {} : { lifetimeSeconds }) };
}

/** The optional `Idempotency-Key` header: 1 to 255 printable ASCII characters. */
export function parseIdempotencyKey(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const key = Array.isArray(value) ? value[0] : value;
  if (key === undefined || !/^[\x21-\x7e]{1,255}$/.test(key)) throw new BadRequestError('Idempotency-Key must be 1 to 255 printable ASCII characters without spaces');
  return key;
}

export function makeCreateHandler(deps: AllocatorDeps & { verifier: TokenVerifier; log?: LogSink }): HttpFunction {
  return makeHttpFunction({
    name: 'create',
    methods: ['POST'],
    verifier: deps.verifier,
    access: deps.config,
    ...(deps.log ? { log: deps.log } : {}),
    handle: async ({ caller, body, headers, path, noteInstance }) => {
      if (path === '/extend') {
        const request = parseExtendRequest(body);
        noteInstance(request.name);
        return { status: 200, body: await extendInstance(deps, caller, request) };
      }
      if (path !== '/') throw new NotFoundError(`no such path ${path}: create takes POST / and POST /extend`);
      const request = parseCreateRequest(body);
      const idempotencyKey = parseIdempotencyKey(headers['idempotency-key']);
      const instance = await createInstance(deps, caller, { ...request, onName: noteInstance, ...(idempotencyKey ? { idempotencyKey } : {}) });
      return { status: 201, body: instance };
    },
  });
}
