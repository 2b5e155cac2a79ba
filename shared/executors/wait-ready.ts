import type { Problem } from '../api-types.ts';
import type { Instance } from '../instances/instance.ts';
import { DeadlineExceededError, FailedPreconditionError } from '../errors.ts';
import type { DeploymentState } from '../kube/deployment-watch.ts';
import type { ClusterContext } from './context.ts';
import { diagnose, instanceView } from './instance-view.ts';
import { pollDelays } from './poll.ts';
import { waitUntilAvailable, type WaitCheck, type WaitRequest } from './wait.ts';

/**
 * When a wait looks at the instance's pods: after 1 s, then backing off to
 * every 5 s, so that a problem that will not go away ends the wait within
 * seconds of the kubelet reporting it, at two lists per look.
 */
const PROBLEM_CHECK_DELAYS = { quickMs: 1_000, quickForMs: 1_000, maxMs: 5_000 } as const;

/**
 * Waits until the instance is available and answers it. Its pods are looked
 * at now and then: one that reports a problem waiting will not mend
 * (`PERMANENT_PROBLEMS`) ends the wait at once with a 400 FAILED_PRECONDITION
 * that names it. When the wait runs out, the 504 says what its pods say
 * (`ImagePullBackOff: ...`). Either says what became of the instance
 * (`then`: "; it was removed").
 */
export async function waitUntilReady(context: ClusterContext, request: WaitRequest & { readonly then?: string }): Promise<Instance> {
  try {
    return await instanceView(context, await waitUntilAvailable(context, request, permanentProblemCheck(context, request)));
  } catch (error) {
    if (!(error instanceof DeadlineExceededError)) throw error;
    const current = await context.cluster.readDeployment(request.name).catch(() => undefined);
    const problems = current ? ((await instanceView(context, current).catch(() => undefined))?.problems ?? []) : [];
    throw new DeadlineExceededError(
      `instance ${request.name} was not ready within ${Math.round(request.timeoutMs / 1000)} s${why(problems)}${request.then ?? ''}`,
      { cause: error },
    );
  }
}

function permanentProblemCheck(context: ClusterContext, request: WaitRequest & { readonly then?: string }): WaitCheck {
  return {
    delays: pollDelays(PROBLEM_CHECK_DELAYS),
    run: async (state: DeploymentState) => {
      if (state === undefined) return;
      const problems = (await diagnose(context, [state])).get(request.name) ?? [];
      const permanent = problems.filter((problem) => problem.permanent);
      if (permanent.length > 0)
        throw new FailedPreconditionError(`instance ${request.name} cannot start${why(permanent)}${request.then ?? ''}`);
    },
  };
}

const why = (problems: readonly Problem[]): string =>
  problems.length === 0 ? '' : `: ${problems.map((problem) => `${problem.reason}: ${problem.message}`).join('; ')}`;
