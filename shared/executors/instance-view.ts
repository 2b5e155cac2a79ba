import type { V1Deployment } from '@kubernetes/client-node';
import type { Problem } from '../api-types.ts';
import { instanceFromDeployment, stateOf, type Instance } from '../instances/instance.ts';
import { LABELS } from '../instances/metadata.ts';
import { problemsOf } from '../instances/problems.ts';
import type { ClusterContext } from './context.ts';

/**
 * The problems of each instance that is on its way up, from one list of its
 * allocator's pods and one of Warning events. Ready, suspended and deleting
 * instances cost nothing.
 */
export async function diagnose(context: ClusterContext, deployments: readonly V1Deployment[]): Promise<Map<string, Problem[]>> {
  const { cluster, clock, serverName } = context;
  const starting = deployments
    .filter((deployment) => stateOf(deployment, []) === 'starting')
    .map((deployment) => deployment.metadata?.name ?? '');
  const problems = new Map<string, Problem[]>();
  if (starting.length === 0) return problems;
  const selector =
    starting.length === 1 ? `${LABELS.allocator}=${serverName},${LABELS.instance}=${starting[0]}` : `${LABELS.allocator}=${serverName}`;
  const [pods, events] = await Promise.all([
    cluster.listPods({ labelSelector: selector }),
    cluster.listEvents({ fieldSelector: 'type=Warning,involvedObject.kind=Pod' }),
  ]);
  const now = new Date(clock.now()).toISOString();
  for (const name of starting) {
    const own = pods.items.filter((pod) => pod.metadata?.labels?.[LABELS.instance] === name);
    problems.set(name, problemsOf(own, events.items, now));
  }
  return problems;
}

/** An instance as every answer shows it: its Deployment, and what its pods say. */
export async function instanceView(context: ClusterContext, deployment: V1Deployment): Promise<Instance> {
  // What the pods say is a diagnosis: an answer without it beats failing an operation whose steps are done.
  const problems = await diagnose(context, [deployment]).catch(() => new Map<string, Problem[]>());
  return instanceFromDeployment(deployment, problems.get(deployment.metadata?.name ?? '') ?? []);
}
