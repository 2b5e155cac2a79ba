import type { V1Deployment } from '@kubernetes/client-node';
import { isSharedWith, mayAccessInstance } from '../auth/policy.ts';
import { byNewestFirst, instanceFromDeployment, isOwnedBy, phaseOfDeployment, type Instance } from '../instances/instance.ts';
import { allowedOperations } from '../model/transitions.ts';
import { instanceSelector } from '../instances/metadata.ts';
import { ownerHashOf } from '../instances/naming.ts';
import { sharedSelector } from '../instances/sharing.ts';
import { allItems } from '../kube/cluster.ts';
import type { CallerContext } from './context.ts';
import { diagnose, readEndpoints } from './instance-view.ts';
import { endpointsByInstance } from '../instances/endpoints.ts';
import type { Endpoint } from '../api-types.ts';

const PAGE_SIZE = 500;

/**
 * The caller's instances and those shared with them (all of them with `all`,
 * which the policy grants only to admins), newest first, selected by label on
 * the server so the cost follows the caller's own instances: the owned and
 * the shared are two lists, sent at once, with a third of the caller's own
 * Services. Each shared one is marked `sharedWithMe`; their endpoints come
 * from one more list, of their Services, made only when there are some.
 */
export async function listInstances(context: CallerContext, request: { readonly all: boolean }): Promise<Instance[]> {
  const { cluster, caller, serverName } = context;
  const list = (labelSelector: string): Promise<V1Deployment[]> =>
    allItems((continueToken) => cluster.listDeployments({ labelSelector, limit: PAGE_SIZE, ...(continueToken ? { continueToken } : {}) }));
  const ownSelector = instanceSelector(serverName, request.all ? undefined : ownerHashOf(caller.email));
  // The caller's own Services go by the same selector as their Deployments (a transfer relabels both), so they are read at once.
  const [owned, shared, ownServices] = await Promise.all([
    list(ownSelector),
    request.all ? [] : list(sharedSelector(serverName, caller.email)),
    context.objects.list('Service', { labelSelector: ownSelector }),
  ]);
  const mine = owned.filter((deployment) => visibleAs(context, 'owned', deployment));
  const names = new Set(mine.map((deployment) => deployment.metadata?.name));
  const sharedWithMe = shared.filter((deployment) => !names.has(deployment.metadata?.name) && visibleAs(context, 'shared', deployment));
  return (
    await viewInstances(
      context,
      [...mine.map((deployment) => ({ deployment, shared: false })), ...sharedWithMe.map((deployment) => ({ deployment, shared: true }))],
      { endpoints: endpointsByInstance(ownServices, context.objects.namespace), of: names },
    )
  ).sort(byNewestFirst);
}

/**
 * Whether the caller sees `deployment` through the list it came from: the
 * owned list (or, for admins with `all`, every instance) keeps those the
 * policy lets the caller reach; the shared list, those shared with them.
 */
export function visibleAs(context: CallerContext, from: 'owned' | 'shared', deployment: V1Deployment): boolean {
  const { policy, caller } = context;
  return from === 'owned' ? mayAccessInstance(policy, caller, deployment) : isSharedWith(policy, caller, deployment);
}

/**
 * The instances as list shows them to the caller, in the order given: each
 * with its problems, its endpoints (one list of Services for all of them),
 * whether it is shared with the caller, and the operations the caller may run.
 */
export async function viewInstances(
  context: CallerContext,
  entries: readonly { readonly deployment: V1Deployment; readonly shared: boolean }[],
  known?: { readonly endpoints: ReadonlyMap<string, Endpoint[]>; readonly of: ReadonlySet<string | undefined> },
): Promise<Instance[]> {
  const { caller } = context;
  const deployments = entries.map((entry) => entry.deployment);
  const unknown = deployments.map((deployment) => deployment.metadata?.name ?? '').filter((name) => !known?.of.has(name));
  // The other instances' Services in one list, however many instances, beside the diagnosis.
  const [problems, read] = await Promise.all([diagnose(context, deployments), readEndpoints(context, unknown)]);
  const endpoints = new Map([...(known?.endpoints ?? []), ...read]);
  const boundToken = caller.sharedAudience !== true;
  return entries.map(({ deployment, shared: isShared }) => ({
    ...instanceFromDeployment(
      deployment,
      problems.get(deployment.metadata?.name ?? '') ?? [],
      endpoints.get(deployment.metadata?.name ?? '') ?? [],
    ),
    sharedWithMe: isShared,
    operations: allowedOperations(phaseOfDeployment(deployment), {
      role: isShared ? 'collaborator' : isOwnedBy(deployment, caller) ? 'owner' : 'admin',
      boundToken,
    }),
  }));
}
