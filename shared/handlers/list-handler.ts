import type { HttpFunction } from '@google-cloud/functions-framework';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { AllocatorDeps } from '../allocator/deps.ts';
import { listInstances } from '../allocator/list-instances.ts';
import { BadRequestError } from '../errors.ts';
import { makeHttpFunction } from '../http/http-function.ts';
import type { LogSink } from '../http/request-log.ts';

/** `?all=true` (admins only). */
export function parseListQuery(query: URLSearchParams): { all: boolean } {
  const unknown = [...query.keys()].filter((key) => key !== 'all');
  if (unknown.length > 0) throw new BadRequestError(`unknown query parameter ${unknown.join(', ')}; list takes only all=true`);
  const all = query.get('all');
  if (all !== null && all !== 'true' && all !== 'false') throw new BadRequestError('"all" must be true or false');
  return { all: all === 'true' };
}

export function makeListHandler(deps: Pick<AllocatorDeps, 'config' | 'cluster'> & { verifier: TokenVerifier; log?: LogSink }): HttpFunction {
  return makeHttpFunction({
    name: 'list',
    methods: ['GET'],
    verifier: deps.verifier,
    access: deps.config,
    ...(deps.log ? { log: deps.log } : {}),
    handle: async ({ caller, query }) => ({ status: 200, body: { instances: await listInstances(deps, caller, parseListQuery(query)) } }),
  });
}
