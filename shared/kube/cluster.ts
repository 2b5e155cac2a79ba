import {
  AppsV1Api,
  CoordinationV1Api,
  CustomObjectsApi,
  createConfiguration,
  KubernetesObjectApi,
  PatchStrategy,
  ServerConfiguration,
  type CoreV1Event,
  type KubeConfig,
  type V1Deployment,
  type V1Lease,
  type V1Pod,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../errors.ts';
import { parseRecord, RECORD_RESOURCE, type InstanceRecord } from '../model/record.ts';
import { callOptions } from './call-options.ts';
import { watchDeployment, type DeploymentState } from './deployment-watch.ts';
import { watchPods, type PodEvent } from './pod-watch.ts';
import { shareConnections } from './shared-connections.ts';
import { ClusterRejectedError, kubeError } from './kube-errors.ts';

/** One page of a list, with the token of the next (undefined on the last page). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly continueToken?: string;
  /** The list's resourceVersion: a watch from it misses nothing after the list. */
  readonly resourceVersion?: string;
}

/** Every item of a paged list, asking for one page after another. */
export async function allItems<T>(list: (continueToken: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let continueToken: string | undefined;
  do {
    const page = await list(continueToken);
    items.push(...page.items);
    continueToken = page.continueToken;
  } while (continueToken);
  return items;
}

/**
 * The Kubernetes calls Allocator makes, one small function each, in one
 * namespace, each with a timeout. Reads of a missing object give undefined;
 * deletes of a missing object give false (already gone).
 */
export interface ClusterClient {
  readonly namespace: string;
  createDeployment(deployment: V1Deployment): Promise<V1Deployment>;
  readDeployment(name: string): Promise<V1Deployment | undefined>;
  listDeployments(options: { labelSelector: string; limit?: number; continueToken?: string }): Promise<Page<V1Deployment>>;
  /** JSON merge patch. */
  patchDeployment(name: string, patch: object): Promise<V1Deployment>;
  /**
   * Foreground propagation: the Deployment goes last, after its ReplicaSets
   * and Pods. Answers what is left: the Deployment as the deletion left it
   * (name and resourceVersion, to watch from) while it waits on those, or
   * undefined once it is gone (or if there was none). With `uid`, deletes
   * only that object: a 409 (ConflictError) if the name is another
   * object's now, and a 404 (NotFoundError) if there is none, since then
   * something else deleted the one meant.
   */
  deleteDeployment(name: string, preconditions?: { uid: string }): Promise<DeploymentState>;
  /**
   * Follows `name` from `seen` (as read before) until `done` holds for its
   * state (undefined: gone) or `maxMs` passes; answers the last state.
   */
  watchDeployment(name: string, seen: DeploymentState, maxMs: number, done: (state: DeploymentState) => boolean): Promise<DeploymentState>;
  createLease(lease: V1Lease): Promise<V1Lease>;
  readLease(name: string): Promise<V1Lease | undefined>;
  listLeases(options: { labelSelector: string; limit?: number; continueToken?: string }): Promise<Page<V1Lease>>;
  /**
   * JSON merge patch. With `uid`, patches only that object: a 409
   * (ConflictError) if it was replaced under the same name.
   */
  patchLease(name: string, patch: object, preconditions?: { uid: string }): Promise<V1Lease>;
  /** With `uid`, deletes only that object (not one made since under the same name): a 409 if it was replaced. */
  deleteLease(name: string, preconditions?: { uid: string }): Promise<boolean>;
  /** Instance records (`shared/model/record.ts`): a create of a taken name is a 409 (AlreadyExistsError). */
  createRecord(record: InstanceRecord): Promise<InstanceRecord>;
  readRecord(name: string): Promise<InstanceRecord | undefined>;
  listRecords(options: { labelSelector: string; limit?: number; continueToken?: string }): Promise<Page<InstanceRecord>>;
  /**
   * Writes the record's metadata and spec (`status`: its status) on the
   * condition that it is still at the record's resourceVersion: a 409
   * (ConflictError) if it changed since, a 404 if it is gone.
   */
  replaceRecord(record: InstanceRecord, part: 'spec' | 'status'): Promise<InstanceRecord>;
  /**
   * Deletes the record if it is still the object read (its uid; with
   * `resourceVersion`, unchanged since): false if already gone, a 409
   * (ConflictError) if replaced or changed.
   */
  deleteRecord(name: string, preconditions?: { uid: string; resourceVersion?: string }): Promise<boolean>;
  /** Pods by label, to tell why an instance is not ready. */
  listPods(options: { labelSelector: string }): Promise<Page<V1Pod>>;
  /** Pods by label, each change from a list's `resourceVersion` on, until `signal` aborts or the watch ends (`pod-watch.ts`). */
  watchPods(options: {
    labelSelector: string;
    resourceVersion?: string;
    signal: AbortSignal;
    onEvent: (event: PodEvent) => void;
  }): Promise<void>;
  /** ReplicaSets by label: those of an instance carry its pods' labels, and their events say whether its pods could be made. */
  listReplicaSets(options: { labelSelector: string }): Promise<Page<V1ReplicaSet>>;
  /**
   * Events by field selector (`type=Warning`, `involvedObject.uid=...`): why
   * an instance is not ready, and what happened to it. Read as core/v1
   * Events rather than events.k8s.io/v1: the API server serves the same
   * objects through both (the scheduler's new-style events too), core/v1 is
   * the group infra/k8s/rbac.yaml already grants, and its `involvedObject`
   * field selectors pick one object's events on the server.
   */
  listEvents(options: { fieldSelector: string }): Promise<Page<CoreV1Event>>;
}

/**
 * A merge patch whose `metadata.uid` is not the object's is refused as an
 * invalid change of an immutable field (422), not as a conflict; callers get
 * it as the 409 of a failed delete precondition.
 */
function uidMismatch(error: unknown, action: string): unknown {
  if (error instanceof ClusterRejectedError && error.kubeStatus === 422 && error.message.includes('metadata.uid')) {
    return new ConflictError(`${action}: it was replaced by another object of the same name`, { cause: error });
  }
  return error;
}

export function makeClusterClient(options: { kubeConfig: KubeConfig; namespace: string; timeoutMs: number }): ClusterClient {
  const { namespace, timeoutMs } = options;
  shareConnections(options.kubeConfig);
  const apps = options.kubeConfig.makeApiClient(AppsV1Api);
  const coordination = options.kubeConfig.makeApiClient(CoordinationV1Api);
  const custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
  const resource = { group: RECORD_RESOURCE.group, version: RECORD_RESOURCE.version, plural: RECORD_RESOURCE.plural, namespace };
  // The generic client: CoreV1Api would add all of the core API to every bundle (2.9 MB) for two list calls.
  // Its calls take no per-call options, so the timeout is in its configuration.
  const objects = new KubernetesObjectApi(
    createConfiguration({
      baseServer: new ServerConfiguration(options.kubeConfig.getCurrentCluster()?.server ?? '', {}),
      authMethods: { default: options.kubeConfig },
      middleware: callOptions(timeoutMs).middleware ?? [],
    }),
  );
  const timed = () => callOptions(timeoutMs);
  async function call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw kubeError(error, action);
    }
  }
  async function orMissing<T, M>(promise: Promise<T>, missing: M): Promise<T | M> {
    try {
      return await promise;
    } catch (error) {
      if (error instanceof NotFoundError) return missing;
      throw error;
    }
  }
  const page = <T>(list: { items: T[]; metadata?: { _continue?: string; resourceVersion?: string } }): Page<T> => ({
    items: list.items,
    ...(list.metadata?._continue ? { continueToken: list.metadata._continue } : {}),
    ...(list.metadata?.resourceVersion ? { resourceVersion: list.metadata.resourceVersion } : {}),
  });
  const listParams = (o: { labelSelector: string; limit?: number; continueToken?: string }) => ({
    namespace,
    labelSelector: o.labelSelector,
    ...(o.limit === undefined ? {} : { limit: o.limit }),
    ...(o.continueToken === undefined ? {} : { _continue: o.continueToken }),
  });

  const readDeployment = (name: string): Promise<DeploymentState> =>
    orMissing(
      call(`read Deployment ${name}`, () => apps.readNamespacedDeployment({ name, namespace }, timed())),
      undefined,
    );

  return {
    namespace,
    listPods: async (o) =>
      page(
        await call('list Pods', () =>
          objects.list<V1Pod>('v1', 'Pod', namespace, undefined, undefined, undefined, undefined, o.labelSelector),
        ),
      ),
    listReplicaSets: async (o) =>
      page(await call('list ReplicaSets', () => apps.listNamespacedReplicaSet({ namespace, labelSelector: o.labelSelector }, timed()))),
    listEvents: async (o) =>
      page(
        await call('list Events', () =>
          objects.list<CoreV1Event>('v1', 'Event', namespace, undefined, undefined, undefined, o.fieldSelector),
        ),
      ),
    createDeployment: (deployment) =>
      call(`create Deployment ${deployment.metadata?.name}`, () =>
        apps.createNamespacedDeployment({ namespace, body: deployment }, timed()),
      ),
    readDeployment,
    listDeployments: async (o) => page(await call('list Deployments', () => apps.listNamespacedDeployment(listParams(o), timed()))),
    patchDeployment: (name, patch) =>
      call(`patch Deployment ${name}`, () =>
        apps.patchNamespacedDeployment(
          { name, namespace, body: patch },
          callOptions(timeoutMs, { 'Content-Type': PatchStrategy.MergePatch }),
        ),
      ),
    deleteDeployment: async (name, preconditions) => {
      const deletion = call(`delete Deployment ${name}`, () =>
        apps.deleteNamespacedDeployment(
          // With a body, the API server reads the options from it alone: the propagation policy goes there too.
          preconditions
            ? { name, namespace, body: { propagationPolicy: 'Foreground', preconditions } }
            : { name, namespace, propagationPolicy: 'Foreground' },
          timed(),
        ),
      );
      const answer = preconditions ? await deletion : await orMissing(deletion, undefined);
      // The API server answers the object while its deletion waits on a finalizer, and a Status once it is gone.
      // client-node reads either as a V1Status, which keeps the kind and the resourceVersion.
      return answer?.kind === 'Deployment'
        ? { metadata: { name, ...(answer.metadata?.resourceVersion ? { resourceVersion: answer.metadata.resourceVersion } : {}) } }
        : undefined;
    },
    watchPods: (o) => watchPods({ kubeConfig: options.kubeConfig, namespace, ...o }),
    watchDeployment: (name, seen, maxMs, done) =>
      watchDeployment({ kubeConfig: options.kubeConfig, namespace, name, seen, maxMs, done, read: () => readDeployment(name) }),
    createLease: (lease) =>
      call(`create Lease ${lease.metadata?.name}`, () => coordination.createNamespacedLease({ namespace, body: lease }, timed())),
    readLease: (name) =>
      orMissing(
        call(`read Lease ${name}`, () => coordination.readNamespacedLease({ name, namespace }, timed())),
        undefined,
      ),
    listLeases: async (o) => page(await call('list Leases', () => coordination.listNamespacedLease(listParams(o), timed()))),
    patchLease: async (name, patch, preconditions) => {
      const action = `patch Lease ${name}`;
      // A merge patch has no preconditions of its own: the uid in its body is one, as the field is immutable.
      const body = preconditions ? { ...patch, metadata: { ...(patch as { metadata?: object }).metadata, uid: preconditions.uid } } : patch;
      try {
        return await call(action, () =>
          coordination.patchNamespacedLease(
            { name, namespace, body },
            callOptions(timeoutMs, { 'Content-Type': PatchStrategy.MergePatch }),
          ),
        );
      } catch (error) {
        throw preconditions ? uidMismatch(error, action) : error;
      }
    },
    createRecord: async (record) =>
      parseRecord(
        await call(`create Instance ${record.metadata.name}`, () =>
          custom.createNamespacedCustomObject({ ...resource, body: record }, timed()),
        ),
      ),
    readRecord: async (name) => {
      const found: unknown = await orMissing(
        call(`read Instance ${name}`, () => custom.getNamespacedCustomObject({ ...resource, name }, timed())),
        undefined,
      );
      return found === undefined ? undefined : parseRecord(found);
    },
    listRecords: async (o) => {
      const list = (await call('list Instances', () =>
        custom.listNamespacedCustomObject(
          {
            ...resource,
            labelSelector: o.labelSelector,
            ...(o.limit === undefined ? {} : { limit: o.limit }),
            ...(o.continueToken === undefined ? {} : { _continue: o.continueToken }),
          },
          timed(),
        ),
      )) as { items?: unknown[]; metadata?: { continue?: string } };
      return {
        items: (list.items ?? []).map(parseRecord),
        ...(list.metadata?.continue ? { continueToken: list.metadata.continue } : {}),
      };
    },
    replaceRecord: async (record, part) => {
      const name = record.metadata.name;
      const action = `update Instance ${name}${part === 'status' ? ' status' : ''}`;
      const replaced: unknown = await call(action, () =>
        part === 'status'
          ? custom.replaceNamespacedCustomObjectStatus({ ...resource, name, body: record }, timed())
          : custom.replaceNamespacedCustomObject({ ...resource, name, body: record }, timed()),
      ).catch((error: unknown) => {
        // Without a resourceVersion the API server would write unconditionally: every write here carries one.
        throw error instanceof AlreadyExistsError ? new ConflictError(error.message, { cause: error }) : error;
      });
      return parseRecord(replaced);
    },
    deleteRecord: (name, preconditions) =>
      orMissing(
        call(`delete Instance ${name}`, () =>
          custom.deleteNamespacedCustomObject({ ...resource, name, ...(preconditions ? { body: { preconditions } } : {}) }, timed()),
        ).then(() => true),
        false,
      ),
    deleteLease: (name, preconditions) =>
      orMissing(
        call(`delete Lease ${name}`, () =>
          coordination.deleteNamespacedLease({ name, namespace, ...(preconditions ? { body: { preconditions } } : {}) }, timed()),
        ).then(() => true),
        false,
      ),
  };
}
