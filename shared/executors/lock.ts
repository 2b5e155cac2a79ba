import type { V1Deployment, V1Lease } from '@kubernetes/client-node';
import { AbortedError, ConflictError, NotFoundError } from '../errors.ts';
import { isStale, lockedFor, lockLease, lockName } from '../plans/lock.ts';
import type { ExecutionContext } from './context.ts';
import { deleteSlot } from './teardown.ts';

/**
 * Runs `work` holding the instance's lock, so that two operations on one
 * instance never interleave: the second gets a 409 ABORTED naming the first.
 * A lock left by a crashed process is taken over once its duration has passed.
 */
export async function withLock<T>(
  context: ExecutionContext,
  options: { deployment: V1Deployment; operation: string; durationMs: number; whileDeleting?: boolean },
  work: () => Promise<T>,
): Promise<T> {
  const { cluster, clock } = context;
  const holder = `${options.operation}/${clock.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const lease = () => lockLease({ serverName: context.serverName, deployment: options.deployment, operation: options.operation, holder, nowMs: clock.now(), durationMs: options.durationMs });
  const name = lockName(options.deployment.metadata?.name ?? '');
  let held = await tryCreate(context, lease);
  if (held !== undefined && isStale(held, clock.now())) {
    context.report(`taking over the lock of ${name}, left by an interrupted ${lockedFor(held)}`);
    await deleteSlot(context, held);
    held = await tryCreate(context, lease);
  }
  if (held !== undefined) {
    throw new AbortedError(`a ${lockedFor(held)} of ${options.deployment.metadata?.name} is in progress; retry when it is done`, { retryAfterSeconds: 5 });
  }
  try {
    // Read again under the lock: a destroy may have begun between the caller's read and the lock
    // (its own lock goes with the Deployment's dependents, before the Deployment itself).
    checkStillThere(await cluster.readDeployment(name.slice(0, -'-lock'.length)), options);
    return await work();
  } finally {
    const mine = await cluster.readLease(name).catch(() => undefined);
    if (mine?.spec?.holderIdentity === holder) await deleteSlot(context, mine).catch((error: unknown) => context.report(`could not release the lock ${name}: ${(error as Error).message}`));
  }
}

/** Creates the lock: undefined once it is ours, else the lock held by another operation. */
async function tryCreate(context: ExecutionContext, lease: () => V1Lease): Promise<V1Lease | undefined> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await context.cluster.createLease(lease());
      return undefined;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
    const held = await context.cluster.readLease(lease().metadata?.name ?? '');
    if (held !== undefined || attempt >= 3) return held ?? lease(); // released meanwhile: try again, a few times
  }
}

function checkStillThere(current: V1Deployment | undefined, options: { deployment: V1Deployment; operation: string; whileDeleting?: boolean }): void {
  const name = options.deployment.metadata?.name ?? '';
  if (!current || current.metadata?.uid !== options.deployment.metadata?.uid) throw new NotFoundError(`instance ${name} not found`);
  if (current.metadata?.deletionTimestamp && !options.whileDeleting) {
    throw new AbortedError(`instance ${name} is being destroyed; it cannot ${options.operation}`, { retryAfterSeconds: 5 });
  }
}
