import type { ClusterEvent } from '../api-types.ts';
import { plainEvents } from '../instances/plain-events.ts';
import { objectsSelector } from '../plans/instance-objects.ts';
import type { CallerContext } from './context.ts';
import { findReadable } from './read-access.ts';

export interface EventsRequest {
  readonly name: string;
}

/**
 * What Kubernetes reported about instance `name`, in plain words, oldest
 * first: the events of its Deployment, of its ReplicaSets (whether its pods
 * could be made), of its pods and of its Services (their load balancers),
 * for as long as the API server keeps them (an hour by default). Each
 * object's events are one list selected on its uid, so an earlier
 * instance's objects of the same names are not read, nor anyone else's
 * events in the namespace; a ConfigMap is not asked about, since nothing
 * reports events about one. Who may read them: as for logs (`findReadable`).
 */
export async function readEvents(context: CallerContext, request: EventsRequest): Promise<ClusterEvent[]> {
  const { name } = request;
  const { deployment } = await findReadable(context, name, "read other people's instances' events");
  const labelSelector = objectsSelector(context.serverName, [name]);
  const [replicaSets, pods, services] = await Promise.all([
    context.cluster.listReplicaSets({ labelSelector }),
    context.cluster.listPods({ labelSelector }),
    context.objects.list('Service', { labelSelector }),
  ]);
  const uids = [deployment, ...replicaSets.items, ...pods.items, ...services].flatMap((object) => object?.metadata?.uid ?? []);
  const lists = await Promise.all(uids.map((uid) => context.cluster.listEvents({ fieldSelector: `involvedObject.uid=${uid}` })));
  return plainEvents(
    lists.flatMap((list) => list.items),
    name,
  );
}
