import type { CallerIdentity } from '../auth/identity.ts';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { isInstanceNameOf } from '../instances/naming.ts';
import { mayAccess } from './access.ts';
import { defaultSleep, type TeardownDeps } from './deps.ts';
import { teardownInstance } from './teardown.ts';

/**
 * Destroys one instance: its Deployment (foreground, so its pods go first),
 * then its disk, retrying while it is attached. A missing instance and one
 * the caller may not touch get the same 404, so names of other users'
 * instances are not revealed.
 */
export async function destroyInstance(deps: TeardownDeps, caller: CallerIdentity, name: string): Promise<{ name: string }> {
  const { config } = deps;
  if (!isInstanceNameOf(config.serverName, name)) {
    throw new BadRequestError(`"${name.slice(0, 100)}" is not an instance name of this allocator; they look like ${config.serverName}-1a2b3c4d`);
  }
  const cluster = await deps.cluster();
  const deployment = await cluster.readDeployment(name);
  if (!deployment || !mayAccess(deployment, caller, config)) throw new NotFoundError(`instance ${name} not found`);
  await teardownInstance({ cluster, disks: deps.disks(), serverName: config.serverName, sleep: deps.sleep ?? defaultSleep }, name, {
    deploymentMs: config.waitTimeoutMs,
    diskReleaseMs: config.diskReleaseTimeoutMs,
  });
  return { name };
}
