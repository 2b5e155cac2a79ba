import type { V1Pod } from '@kubernetes/client-node';
import type { Problem } from '../api-types.ts';
import type { ProgressSink } from '../api/progress.ts';
import { objectsSelector } from '../plans/instance-objects.ts';
import { podStepReached, POD_STEPS, type PodStep } from '../instances/pod-steps.ts';
import { instanceFromDeployment, type Instance } from '../instances/instance.ts';
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
export async function waitUntilReady(
  context: ClusterContext,
  request: WaitRequest & {
    readonly then?: string;
    /** None, when the caller knows the instance has no Service (its plan made none): the answer then reads none. */
    readonly noServices?: boolean;
  },
): Promise<Instance> {
  const steps = context.progress ? followPodSteps(context, request.name, context.progress) : undefined;
  try {
    const available = await waitUntilAvailable(context, request, permanentProblemCheck(context, request));
    steps?.finish();
    context.progress?.('ready');
    // An available instance has no problems to diagnose, so one without Services needs nothing more read.
    return request.noServices === true ? instanceFromDeployment(available, [], []) : await instanceView(context, available);
  } catch (error) {
    steps?.stop();
    if (!(error instanceof DeadlineExceededError)) throw error;
    const current = await context.cluster.readDeployment(request.name).catch(() => undefined);
    const problems = current ? ((await instanceView(context, current).catch(() => undefined))?.problems ?? []) : [];
    throw new DeadlineExceededError(
      `instance ${request.name} was not ready within ${Math.round(request.timeoutMs / 1000)} s${why(problems)}${request.then ?? ''}`,
      { cause: error },
    );
  }
}

/** How long a wait that streams its progress pauses before it lists the pods again, once their watch ended. */
const POD_WATCH_RETRY_MS = 1_000;

/**
 * Tells each pod step (scheduled, pulled, started) once, in order, as the
 * instance's new pods reach it: it lists them, then watches them from that
 * list until stopped, listing again whenever a watch ends (the server closes
 * one now and then). `finish`, once the instance is ready, tells the steps
 * not told yet: ready implies them, and a quick start's pod events may come
 * after the Deployment's.
 */
function followPodSteps(context: ClusterContext, name: string, progress: ProgressSink): { finish(): void; stop(): void } {
  const since = context.clock.now();
  const labelSelector = objectsSelector(context.serverName, [name]);
  const stopping = new AbortController();
  const stopped = new Promise<void>((resolve) => stopping.signal.addEventListener('abort', () => resolve(), { once: true }));
  const pods = new Map<string, V1Pod>();
  let told = -1;
  const tell = (): void => {
    if (stopping.signal.aborted) return; // a late list or event: nothing is told after ready, or after a failed wait
    const reached = POD_STEPS.indexOf(podStepReached([...pods.values()], since) as PodStep);
    while (told < reached) progress(POD_STEPS[(told += 1)] as PodStep);
  };
  const list = async (): Promise<string | undefined> => {
    const page = await context.cluster.listPods({ labelSelector });
    pods.clear();
    for (const pod of page.items) pods.set(pod.metadata?.uid ?? pod.metadata?.name ?? '', pod);
    tell();
    return page.resourceVersion;
  };
  // Runs on its own: neither the wait nor its answer waits for it, and stopping ends it.
  void (async () => {
    while (!stopping.signal.aborted) {
      try {
        const resourceVersion = await list();
        if (stopping.signal.aborted) return;
        await context.cluster.watchPods({
          labelSelector,
          ...(resourceVersion ? { resourceVersion } : {}),
          signal: stopping.signal,
          onEvent: ({ type, pod }) => {
            const key = pod.metadata?.uid ?? pod.metadata?.name ?? '';
            if (type === 'DELETED') pods.delete(key);
            else pods.set(key, pod);
            tell();
          },
        });
      } catch {
        // The steps are a courtesy: a failed list or watch is tried again, and the wait goes on regardless.
      }
      // A watch the server ended (or refused) is followed again only after a pause, so that one ending at once cannot spin.
      await Promise.race([context.clock.sleep(POD_WATCH_RETRY_MS), stopped]);
    }
  })();
  return {
    finish: () => {
      const last = told;
      stopping.abort();
      // Ready implies every step before it: those the watch had not told yet (its events may trail the Deployment's).
      for (let step = last + 1; step < POD_STEPS.length; step += 1) progress(POD_STEPS[step] as PodStep);
    },
    stop: () => stopping.abort(),
  };
}

function permanentProblemCheck(context: ClusterContext, request: WaitRequest & { readonly then?: string }): WaitCheck {
  let told = '';
  return {
    delays: pollDelays(PROBLEM_CHECK_DELAYS),
    run: async (state: DeploymentState) => {
      if (state === undefined) return;
      const problems = (await diagnose(context, [state])).get(request.name) ?? [];
      const permanent = problems.filter((problem) => problem.permanent);
      if (permanent.length > 0)
        throw new FailedPreconditionError(`instance ${request.name} cannot start${why(permanent)}${request.then ?? ''}`);
      // Told when what keeps it waiting changes, not at each look.
      if (problems.length > 0 && why(problems) !== told) context.progress?.('problems', { problems });
      told = why(problems);
    },
  };
}

const why = (problems: readonly Problem[]): string =>
  problems.length === 0 ? '' : `: ${problems.map((problem) => `${problem.reason}: ${problem.message}`).join('; ')}`;
