import {
  createConfiguration,
  KubernetesObjectApi,
  PatchStrategy,
  ServerConfiguration,
  type KubeConfig,
  type V1ConfigMap,
  type V1Service,
} from '@kubernetes/client-node';
import { AlreadyExistsError, NotFoundError } from '../errors.ts';
import type { InstanceObject, ObjectKind } from '../template/validate-objects.ts';
import { callOptions } from './call-options.ts';
import { kubeError } from './kube-errors.ts';
import { shareConnections } from './shared-connections.ts';

/** What a list of one kind gives. */
export interface ObjectsOfKind {
  Service: V1Service;
  ConfigMap: V1ConfigMap;
}

/**
 * The calls for an instance's Services and ConfigMaps, in one namespace, each
 * with a timeout: beside `ClusterClient`, which stays the calls every
 * instance needs. A create of an object that exists is `false` (409: already
 * there), a delete of one that does not is `false` (404: already gone).
 */
export interface InstanceObjectsClient {
  readonly namespace: string;
  create(object: InstanceObject): Promise<boolean>;
  delete(kind: ObjectKind, name: string): Promise<boolean>;
  list<K extends ObjectKind>(kind: K, options: { labelSelector: string }): Promise<readonly ObjectsOfKind[K][]>;
  /** Sets these labels on the object (a merge patch: others stay); false if it is gone. */
  relabel(kind: ObjectKind, name: string, labels: Readonly<Record<string, string>>): Promise<boolean>;
}

/** The client over client-node's generic object API: CoreV1Api would add all of the core API to every bundle. */
export function makeInstanceObjectsClient(options: {
  kubeConfig: KubeConfig;
  namespace: string;
  timeoutMs: number;
}): InstanceObjectsClient {
  const { namespace, timeoutMs } = options;
  shareConnections(options.kubeConfig);
  // Its calls take no per-call options, so the timeout is in its configuration (as cluster.ts's).
  const objects = new KubernetesObjectApi(
    createConfiguration({
      baseServer: new ServerConfiguration(options.kubeConfig.getCurrentCluster()?.server ?? '', {}),
      authMethods: { default: options.kubeConfig },
      middleware: callOptions(timeoutMs).middleware ?? [],
    }),
  );
  async function call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw kubeError(error, action);
    }
  }
  return {
    namespace,
    create: async (object) => {
      const action = `create ${object.kind} ${object.metadata.name}`;
      try {
        await call(action, () => objects.create({ ...object, metadata: { ...object.metadata, namespace } }));
        return true;
      } catch (error) {
        if (error instanceof AlreadyExistsError) return false;
        throw error;
      }
    },
    delete: async (kind, name) => {
      try {
        await call(`delete ${kind} ${name}`, () => objects.delete({ apiVersion: 'v1', kind, metadata: { name, namespace } }));
        return true;
      } catch (error) {
        if (error instanceof NotFoundError) return false;
        throw error;
      }
    },
    relabel: async (kind, name, labels) => {
      try {
        await call(`relabel ${kind} ${name}`, () =>
          objects.patch(
            { apiVersion: 'v1', kind, metadata: { name, namespace, labels: { ...labels } } },
            undefined,
            undefined,
            undefined,
            undefined,
            PatchStrategy.MergePatch,
          ),
        );
        return true;
      } catch (error) {
        if (error instanceof NotFoundError) return false;
        throw error;
      }
    },
    list: async (kind, o) => {
      const list = await call(`list ${kind}s`, () =>
        objects.list('v1', kind, namespace, undefined, undefined, undefined, undefined, o.labelSelector),
      );
      return list.items as unknown as ObjectsOfKind[typeof kind][];
    },
  };
}
