import type { V1OwnerReference } from '@kubernetes/client-node';
import { RECORD_API_VERSION, RECORD_RESOURCE } from '../model/record.ts';
import { INTERNAL_LOAD_BALANCER, INTERNAL_LOAD_BALANCER_ANNOTATION, LABELS } from '../instances/metadata.ts';
import type { InstanceObject } from '../template/validate-objects.ts';

export type { InstanceObject };

/**
 * A copy of a template's Service or ConfigMap carrying Allocator's labels, on
 * which listing and teardown select it, and, on a LoadBalancer Service, GKE's
 * annotation that keeps the load balancer internal.
 */
export function withObjectMetadata(
  object: InstanceObject,
  meta: { readonly serverName: string; readonly ownerHash: string; readonly name: string },
): InstanceObject {
  const copy = structuredClone(object);
  copy.metadata = {
    ...copy.metadata,
    labels: {
      ...copy.metadata.labels,
      [LABELS.allocator]: meta.serverName,
      [LABELS.ownerHash]: meta.ownerHash,
      [LABELS.instance]: meta.name,
    },
  };
  if (copy.kind === 'Service' && copy.spec?.type === 'LoadBalancer') {
    copy.metadata.annotations = { ...copy.metadata.annotations, [INTERNAL_LOAD_BALANCER_ANNOTATION]: INTERNAL_LOAD_BALANCER };
  }
  return copy;
}

/**
 * A copy of `object` owned by the instance's record, so that the garbage
 * collector deletes it with the record. The record's uid is known only once
 * create has made it, so this is the executor's last touch before sending.
 */
export function ownedByRecord(object: InstanceObject, record: { readonly name: string; readonly uid: string }): InstanceObject {
  const owner: V1OwnerReference = { apiVersion: RECORD_API_VERSION, kind: RECORD_RESOURCE.kind, name: record.name, uid: record.uid };
  return { ...object, metadata: { ...object.metadata, ownerReferences: [owner] } } as InstanceObject;
}

/** Past this many instances, a list of their objects selects all of the allocator's rather than name each in the selector. */
export const NAMED_IN_SELECTOR = 100;

/** The selector of one instance's objects, or of several instances' (one list for a whole answer). */
export function objectsSelector(serverName: string, names: readonly string[]): string {
  const allocator = `${LABELS.allocator}=${serverName}`;
  if (names.length === 1) return `${allocator},${LABELS.instance}=${names[0]}`;
  if (names.length > NAMED_IN_SELECTOR) return allocator;
  return `${allocator},${LABELS.instance} in (${[...names].sort().join(',')})`;
}
