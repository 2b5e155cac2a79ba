import type { Instance } from '../instances/instance.ts';
import { ANNOTATIONS } from '../instances/metadata.ts';
import { extensionExpiry, type LifetimeLimits } from '../plans/lifetime.ts';
import type { CallerContext } from './context.ts';
import { instanceView } from './instance-view.ts';
import { updateSpec } from './transition.ts';

/** Sets the expiry of an instance the caller may touch to `lifetimeSeconds` from now (default: the allocator's), within its limits. */
export async function extendInstance(
  context: CallerContext & { readonly lifetime: LifetimeLimits },
  request: { readonly name: string; readonly lifetimeSeconds?: number },
): Promise<Instance> {
  const expiresAt = extensionExpiry(request.lifetimeSeconds, context.lifetime, context.clock.now());
  await updateSpec(context, { name: request.name, kind: 'extend' }, ({ expiresAt: _previous, ...spec }) => ({
    ...spec,
    ...(expiresAt ? { expiresAt } : {}),
  }));
  const patched = await context.cluster.patchDeployment(request.name, {
    metadata: { annotations: { [ANNOTATIONS.expiresAt]: expiresAt ?? null } },
  });
  return await instanceView(context, patched);
}
