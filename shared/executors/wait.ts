import type { V1Deployment } from '@kubernetes/client-node';
import { DeadlineExceededError } from '../errors.ts';
import { isAvailable } from '../instances/instance.ts';
import type { DeploymentState } from '../kube/deployment-watch.ts';
import type { ClusterContext } from './context.ts';
import { pollDelays } from './poll.ts';

/** What to wait for: a Deployment by name, for at most `timeoutMs`; `seen` is a state already in hand, which saves the first read. */
export interface WaitRequest {
  readonly name: string;
  readonly timeoutMs: number;
  readonly seen?: V1Deployment;
}

/**
 * Looked at now and then while a wait goes on (after each of `delays`, in
 * ms), for what the Deployment's own state does not show: it throws to end
 * the wait early.
 */
export interface WaitCheck {
  readonly delays: Iterator<number>;
  readonly run: (state: DeploymentState) => Promise<void>;
}

type Context = Pick<ClusterContext, 'cluster' | 'clock'>;

/** Waits until every wanted replica of the Deployment is available, or throws a 504 after `timeoutMs`. */
export async function waitUntilAvailable(context: Context, request: WaitRequest, check?: WaitCheck): Promise<V1Deployment> {
  const { name, timeoutMs } = request;
  const available = (state: DeploymentState): state is V1Deployment => state !== undefined && isAvailable(state);
  const state = await follow(context, request, available, check);
  if (!available(state)) throw new DeadlineExceededError(`instance ${name} was not available within ${Math.round(timeoutMs / 1000)} s`);
  return state;
}

/** Waits until the Deployment is gone (foreground deletion removes its pods first). */
export async function waitUntilDeploymentGone(context: Context, request: WaitRequest): Promise<void> {
  const { name, timeoutMs } = request;
  const gone = (state: DeploymentState): boolean => state === undefined;
  if (!gone(await follow(context, request, gone))) {
    throw new DeadlineExceededError(`Deployment ${name} was still being deleted after ${Math.round(timeoutMs / 1000)} s`);
  }
}

/**
 * Reads `name` (unless given it), then watches it until `done` or the
 * deadline, and answers the last state. A watch that comes back with no
 * change (it was cut) is followed by a short pause, so a failing watch
 * cannot spin. With a `check`, each watch ends by the check's next time, and
 * the check runs then.
 */
async function follow(
  context: Context,
  request: WaitRequest,
  done: (state: DeploymentState) => boolean,
  check?: WaitCheck,
): Promise<DeploymentState> {
  const { cluster, clock } = context;
  const { name, timeoutMs, seen } = request;
  const deadline = clock.now() + timeoutMs;
  const pauses = pollDelays();
  let checkAt = check ? clock.now() + nextDelay(check) : Infinity;
  let state = seen ?? (await cluster.readDeployment(name));
  while (!done(state)) {
    const remaining = deadline - clock.now();
    if (remaining <= 0) return state;
    if (check && clock.now() >= checkAt) {
      await check.run(state);
      checkAt = clock.now() + nextDelay(check);
      continue;
    }
    const before = state?.metadata?.resourceVersion;
    const sliceEnd = Math.min(deadline, checkAt);
    state = await cluster.watchDeployment(name, state, sliceEnd - clock.now(), done);
    if (!done(state) && state?.metadata?.resourceVersion === before && clock.now() < sliceEnd)
      await clock.sleep(Math.min(pauses.next().value, Math.max(0, sliceEnd - clock.now())));
  }
  return state;
}

const nextDelay = (check: WaitCheck): number => {
  const next = check.delays.next();
  return next.done ? Infinity : next.value;
};
