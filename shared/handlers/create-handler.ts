import type { HttpFunction } from '@google-cloud/functions-framework';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import { createInstance } from '../allocator/create-instance.ts';
import type { AllocatorDeps } from '../allocator/deps.ts';
import { BadRequestError } from '../errors.ts';
import { makeHttpFunction, rejectUnknownFields } from '../http/http-function.ts';
import type { LogSink } from '../http/request-log.ts';

/** `{"wait": bool, "waitTimeoutSeconds": n}`, both optional. */
export function parseCreateRequest(body: Readonly<Record<string, unknown>>): { wait: boolean; waitTimeoutMs?: number } {
  rejectUnknownFields(body, ['wait', 'waitTimeoutSeconds']);
  const { wait = true, waitTimeoutSeconds } = body;
  if (typeof wait !== 'boolean') throw new BadRequestError('"wait" must be true or false');
  if (waitTimeoutSeconds === undefined) return { wait };
  if (typeof waitTimeoutSeconds !== 'number' || !Number.isInteger(waitTimeoutSeconds) || waitTimeoutSeconds < 1) {
    throw new BadRequestError('"waitTimeoutSeconds" must be a whole number of seconds >= 1');
  }
  return { wait, waitTimeoutMs: waitTimeoutSeconds * 1000 };
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
    ...(deps.log ? { log: deps.log } : {}),
    handle: async ({ caller, body, headers, noteInstance }) => {
      const request = parseCreateRequest(body);
      const idempotencyKey = parseIdempotencyKey(headers['idempotency-key']);
      const instance = await createInstance(deps, caller, { ...request, onName: noteInstance, ...(idempotencyKey ? { idempotencyKey } : {}) });
      return { status: 201, body: instance };
    },
  });
}
