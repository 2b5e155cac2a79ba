import type { V1Deployment, V1Lease, V1OwnerReference } from '@kubernetes/client-node';
import { AbortedError, AlreadyExistsError, NotFoundError } from '../errors.ts';
import { deploymentOwner, isStale, lockedFor, lockLease, lockName } from '../plans/lock.ts';
import type { ExecutionContext } from './context.ts';
import { deleteLease } from './teardown.ts';

/** The lock held by `withLock`'s work, which may let it go before the work ends. */
export interface HeldLock {
  /** Releases the lock now (once; later calls and the final release do nothing). */
  release(): Promise<void>;
}

/** What `withLock` locks, for what, and what it checks once the lock is held. */
export interface LockOptions {
  /** The instance's Deployment as the caller read it. */
  readonly deployment: V1Deployment;
  /** What the lock is for, as a second operation's 409 names it. */
  readonly operation: string;
  /** Whether the work may run on an instance being destroyed (default false: a 409 to retry). */
  readonly whileDeleting?: boolean;
  /**
   * Whether every write of the work is conditional on the Deployment's uid
   * (default false): then the instance is not read again under the lock,
   * since a write to a destroyed or re-created instance fails by itself.
   */
  readonly uidPreconditions?: boolean;
}

/**
 * Runs `work` holding the instance's lock, so that two operations on one
 * instance never interleave: the second gets a 409 ABORTED naming the first.
 * A lock left by a crashed process is taken over once its duration has passed.
 */
export async function withLock<T>(
  context: ExecutionContext & { readonly lockMs: number },
  options: LockOptions,
  work: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  const { deployment } = options;
  const instance = deployment.metadata?.name ?? '';
  return await holdLock(context, { instance, owner: deploymentOwner(deployment), operation: options.operation }, async (lock) => {
    // Read again under the lock: a destroy may have begun and ended between the caller's read
    // and the lock (a destroy lets its lock go once the Deployment is gone).
    if (!options.uidPreconditions) checkStillThere(await context.cluster.readDeployment(instance), options);
    return await work(lock);
  });
}

/**
 * Runs `work` holding the lock of `instance`, which goes with `owner` if it
 * is deleted: the second operation gets a 409 ABORTED naming the first, and
 * a lock left by a crashed process is taken over once its duration has passed.
 */
export async function holdLock<T>(
  context: ExecutionContext & { readonly lockMs: number },
  target: { readonly instance: string; readonly owner: V1OwnerReference; readonly operation: string },
  work: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  const { clock } = context;
  const holder = `${target.operation}/${clock.now().toString(36)}${context.random(4).toString('hex')}`;
  const lease = () =>
    lockLease({
      serverName: context.serverName,
      instance: target.instance,
      owner: target.owner,
      operation: target.operation,
      holder,
      nowMs: clock.now(),
      durationMs: context.lockMs,
    });
  const name = lockName(target.instance);
  let attempt = await tryCreate(context, lease);
  if ('held' in attempt && isStale(attempt.held, clock.now())) {
    context.report(`taking over the lock of ${name}, left by an interrupted ${lockedFor(attempt.held)}`);
    await deleteLease(context, attempt.held);
    attempt = await tryCreate(context, lease);
  }
  if ('held' in attempt) {
    throw new AbortedError(`a ${lockedFor(attempt.held)} of ${target.instance} is in progress; retry when it is done`, {
      retryAfterSeconds: 5,
    });
  }
  // Deleting the very object created, by its uid, leaves alone a lock taken over and made again since.
  const mine = attempt.mine;
  let released: Promise<void> | undefined;
  const release = (): Promise<void> =>
    (released ??= deleteLease(context, mine).then(
      () => undefined,
      (error: unknown) => context.report(`could not release the lock ${name}: ${(error as Error).message}`),
    ));
  try {
    return await work({ release });
  } finally {
    await release();
  }
}

/** Creates the lock: the lock as created once it is ours, else the lock held by another operation. */
async function tryCreate(context: ExecutionContext, lease: () => V1Lease): Promise<{ mine: V1Lease } | { held: V1Lease }> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return { mine: await context.cluster.createLease(lease()) };
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
    const held = await context.cluster.readLease(lease().metadata?.name ?? '');
    if (held !== undefined || attempt >= 3) return { held: held ?? lease() }; // released meanwhile: try again, a few times
  }
}

function checkStillThere(current: V1Deployment | undefined, options: LockOptions): void {
  const name = options.deployment.metadata?.name ?? '';
  if (!current || current.metadata?.uid !== options.deployment.metadata?.uid) throw new NotFoundError(`instance ${name} not found`);
  if (current.metadata?.deletionTimestamp && !options.whileDeleting) {
    throw new AbortedError(`instance ${name} is being destroyed; it cannot ${options.operation}`, { retryAfterSeconds: 5 });
  }
}
