import type { V1Deployment } from '@kubernetes/client-node';
import type { Endpoint, Problem } from '../api-types.ts';
import { endpointsByInstance } from '../instances/endpoints.ts';
import { objectsSelector } from '../plans/instance-objects.ts';
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
  const selector = objectsSelector(serverName, starting);
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

/**
 * The endpoints of each named instance, from one label-selected list of
 * their Services however many they are: nothing is read for none.
 */
export async function readEndpoints(context: ClusterContext, names: readonly string[]): Promise<Map<string, Endpoint[]>> {
  if (names.length === 0) return new Map();
  const services = await context.objects.list('Service', { labelSelector: objectsSelector(context.serverName, names) });
  return endpointsByInstance(services, context.objects.namespace);
}

/** An instance as every answer shows it: its Deployment, what its pods say, and where its Services answer. */
export async function instanceView(context: ClusterContext, deployment: V1Deployment): Promise<Instance> {
  const name = deployment.metadata?.name ?? '';
  // Both are read beside the operation's own work: an answer without them beats failing an operation whose steps are done.
  const [problems, endpoints] = await Promise.all([
    diagnose(context, [deployment]).catch(() => new Map<string, Problem[]>()),
    readEndpoints(context, [name]).catch(() => new Map<string, Endpoint[]>()),
  ]);
  return instanceFromDeployment(deployment, problems.get(name) ?? [], endpoints.get(name) ?? []);
}
