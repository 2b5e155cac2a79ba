import type { Instance } from '../instances/instance.ts';
import { ANNOTATIONS } from '../instances/metadata.ts';
import { checkNotDeleting } from '../plans/lifecycle.ts';
import { extensionExpiry, type LifetimeLimits } from '../plans/lifetime.ts';
import type { CallerContext } from './context.ts';
import { findInstance } from './find-instance.ts';
import { instanceView } from './instance-view.ts';

/** Sets the expiry of an instance the caller may touch to `lifetimeSeconds` from now (default: the allocator's), within its limits. */
export async function extendInstance(
  context: CallerContext & { readonly lifetime: LifetimeLimits },
  request: { readonly name: string; readonly lifetimeSeconds?: number },
): Promise<Instance> {
  const expiresAt = extensionExpiry(request.lifetimeSeconds, context.lifetime, context.clock.now());
  const deployment = await findInstance(context, request.name, { collaborators: true });
  checkNotDeleting(deployment, 'be extended');
  const patched = await context.cluster.patchDeployment(request.name, {
    metadata: { annotations: { [ANNOTATIONS.expiresAt]: expiresAt ?? null } },
  });
  return await instanceView(context, patched);
}
