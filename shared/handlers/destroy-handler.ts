import type { HttpFunction } from '@google-cloud/functions-framework';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { TeardownDeps } from '../allocator/deps.ts';
import { isAdmin } from '../allocator/access.ts';
import { destroyInstance } from '../allocator/destroy-instance.ts';
import { sweep } from '../allocator/sweep.ts';
import { BadRequestError, NotFoundError, PermissionDeniedError } from '../errors.ts';
import { makeHttpFunction, rejectUnknownFields } from '../http/http-function.ts';
import type { LogSink } from '../http/request-log.ts';

/** `{"name": "<instance>"}`. */
export function parseDestroyRequest(body: Readonly<Record<string, unknown>>): { name: string } {
  rejectUnknownFields(body, ['name']);
  const { name } = body;
  if (typeof name !== 'string' || name === '') throw new BadRequestError('"name" is required: the instance to destroy');
  return { name };
}

/** `POST /sweep {"dryRun": bool}` (optional). */
export function parseSweepRequest(body: Readonly<Record<string, unknown>>): { dryRun: boolean } {
  rejectUnknownFields(body, ['dryRun']);
  const { dryRun = false } = body;
  if (typeof dryRun !== 'boolean') throw new BadRequestError('"dryRun" must be true or false');
  return { dryRun };
}

export function makeDestroyHandler(deps: TeardownDeps & { verifier: TokenVerifier; log?: LogSink }): HttpFunction {
  return makeHttpFunction({
    name: 'destroy',
    methods: ['POST', 'DELETE'],
    verifier: deps.verifier,
    access: deps.config,
    ...(deps.log ? { log: deps.log } : {}),
    handle: async ({ caller, body, path, noteInstance }) => {
      if (path === '/sweep') {
        const request = parseSweepRequest(body);
        if (!isAdmin(deps.config.admins, caller)) throw new PermissionDeniedError('only admins (such as the cleanup scheduler\'s service account) may sweep');
        return { status: 200, body: await sweep(deps, request) };
      }
      if (path !== '/') throw new NotFoundError(`no such path ${path}: destroy takes POST / (or DELETE /) and POST /sweep`);
      const { name } = parseDestroyRequest(body);
      noteInstance(name);
      await destroyInstance(deps, caller, name);
      return { status: 200, body: { name, destroyed: true } };
    },
  });
}
