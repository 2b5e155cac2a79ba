import type { HttpFunction } from '@google-cloud/functions-framework';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { AllocatorDeps } from '../allocator/deps.ts';
import { destroyInstance } from '../allocator/destroy-instance.ts';
import { BadRequestError } from '../errors.ts';
import { makeHttpFunction, rejectUnknownFields } from '../http/http-function.ts';
import type { LogSink } from '../http/request-log.ts';

/** `{"name": "<instance>"}`. */
export function parseDestroyRequest(body: Readonly<Record<string, unknown>>): { name: string } {
  rejectUnknownFields(body, ['name']);
  const { name } = body;
  if (typeof name !== 'string' || name === '') throw new BadRequestError('"name" is required: the instance to destroy');
  return { name };
}

export function makeDestroyHandler(deps: AllocatorDeps & { verifier: TokenVerifier; log?: LogSink }): HttpFunction {
  return makeHttpFunction({
    name: 'destroy',
    methods: ['POST', 'DELETE'],
    verifier: deps.verifier,
    ...(deps.log ? { log: deps.log } : {}),
    handle: async ({ caller, body, noteInstance }) => {
      const { name } = parseDestroyRequest(body);
      noteInstance(name);
      await destroyInstance(deps, caller, name);
      return { status: 200, body: { name, destroyed: true } };
    },
  });
}
