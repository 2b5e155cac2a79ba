import type { CallerIdentity } from '../auth/identity.ts';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { instanceFromDeployment, type Instance } from '../instances/instance.ts';
import { ANNOTATIONS } from '../instances/metadata.ts';
import { isInstanceNameOf } from '../instances/naming.ts';
import type { AllocatorDeps } from './deps.ts';
import { mayAccess } from './access.ts';
import { expiryFor, resolveLifetimeSeconds } from './lifetime.ts';

/**
 * Sets an instance's expiry to now plus `lifetimeSeconds` (default: the
 * configured default), within the configured maximum. The same 404 as
 * destroy for instances the caller may not touch.
 */
export async function extendInstance(deps: Pick<AllocatorDeps, 'config' | 'cluster'>, caller: CallerIdentity, request: { name: string; lifetimeSeconds?: number }): Promise<Instance> {
  const { config } = deps;
  if (!isInstanceNameOf(config.serverName, request.name)) throw new BadRequestError(`"${request.name.slice(0, 100)}" is not an instance name of this allocator`);
  const lifetime = resolveLifetimeSeconds(request.lifetimeSeconds ?? (config.lifetime.defaultSeconds || config.lifetime.maxSeconds || undefined), config.lifetime);
  const cluster = await deps.cluster();
  const deployment = await cluster.readDeployment(request.name);
  if (!deployment || !mayAccess(deployment, caller, config)) throw new NotFoundError(`instance ${request.name} not found`);
  const expiresAt = expiryFor(lifetime, Date.now()) ?? null; // null removes the annotation: never expires
  const patched = await cluster.patchDeployment(request.name, { metadata: { annotations: { [ANNOTATIONS.expiresAt]: expiresAt } } });
  return instanceFromDeployment(patched);
}
