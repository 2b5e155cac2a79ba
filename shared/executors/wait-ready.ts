import type { V1Deployment } from '@kubernetes/client-node';
import type { Instance } from '../instances/instance.ts';
import { DeadlineExceededError } from '../errors.ts';
import type { ExecutionContext } from './context.ts';
import { instanceView } from './diagnose.ts';
import { waitUntilAvailable } from './wait.ts';

/**
 * Waits until the instance is available and answers it; when the wait runs
 * out, the 504 says what its pods say (`ImagePullBackOff: ...`).
 */
export async function waitUntilReady(
  context: Pick<ExecutionContext, 'cluster' | 'clock' | 'serverName'>,
  name: string,
  timeoutMs: number,
  then = '',
  seen?: V1Deployment,
): Promise<Instance> {
  try {
    const ready = await waitUntilAvailable(context.cluster, context.clock, name, timeoutMs, seen);
    return await instanceView(context.cluster, context.clock, context.serverName, ready);
  } catch (error) {
    if (!(error instanceof DeadlineExceededError)) throw error;
    const current = await context.cluster.readDeployment(name).catch(() => undefined);
    const problems = current
      ? ((await instanceView(context.cluster, context.clock, context.serverName, current).catch(() => undefined))?.problems ?? [])
      : [];
    const why = problems.map((problem) => `${problem.reason}: ${problem.message}`).join('; ');
    throw new DeadlineExceededError(
      `instance ${name} was not ready within ${Math.round(timeoutMs / 1000)} s${why ? `: ${why}` : ''}${then}`,
      { cause: error },
    );
  }
}
