import type { Instance } from '../instances/instance.ts';
import { DeadlineExceededError } from '../errors.ts';
import type { ClusterContext } from './context.ts';
import { instanceView } from './instance-view.ts';
import { waitUntilAvailable, type WaitRequest } from './wait.ts';

/**
 * Waits until the instance is available and answers it; when the wait runs
 * out, the 504 says what its pods say (`ImagePullBackOff: ...`), and then
 * what became of the instance (`then`: "; it was removed").
 */
export async function waitUntilReady(context: ClusterContext, request: WaitRequest & { readonly then?: string }): Promise<Instance> {
  try {
    return await instanceView(context, await waitUntilAvailable(context, request));
  } catch (error) {
    if (!(error instanceof DeadlineExceededError)) throw error;
    const current = await context.cluster.readDeployment(request.name).catch(() => undefined);
    const problems = current ? ((await instanceView(context, current).catch(() => undefined))?.problems ?? []) : [];
    const why = problems.map((problem) => `${problem.reason}: ${problem.message}`).join('; ');
    throw new DeadlineExceededError(
      `instance ${request.name} was not ready within ${Math.round(request.timeoutMs / 1000)} s${why ? `: ${why}` : ''}${request.then ?? ''}`,
      { cause: error },
    );
  }
}
