import type { V1Deployment, V1Lease, V1OwnerReference } from '@kubernetes/client-node';
import type { DestroyedInstance } from '../api-types.ts';
import { ANNOTATIONS, DISK_LABELS, LABELS, RESTORE_RECORD_LABEL } from '../instances/metadata.ts';

/**
 * Restore after a destroy. Within the restore window a destroy keeps the
 * instance's disk, labelled with the time of the destroy, and leaves a
 * restore record: a Lease holding the Deployment's own annotations (owner,
 * owner's account id, mount name, and whatever later versions record there),
 * since a restore renders the Deployment again and the Deployment is gone.
 *
 * Why a Lease: the disk's description is fixed when the disk is made (Compute
 * Engine has no call to change it), its labels take no emails, and a Lease is
 * what the runtime account may already write (slots and locks are Leases),
 * and what the list function, which has no Compute Engine client, can read.
 */
export function restoreRecordName(instance: string): string {
  return `${instance}-restore`;
}

/** The restore records of one owner, or of all owners. */
export function restoreRecordSelector(serverName: string, ownerHash?: string): string {
  const base = `${LABELS.allocator}=${serverName},${RESTORE_RECORD_LABEL}`;
  return ownerHash === undefined ? base : `${base},${LABELS.ownerHash}=${ownerHash}`;
}

/** Annotations that belong to one life of an instance, which a restore gives afresh. */
export const NOT_KEPT: readonly string[] = [ANNOTATIONS.expiresAt, ANNOTATIONS.idempotencyKey, ANNOTATIONS.destroyedAt];

/** The record a destroy at `nowMs` leaves of `deployment`: its labels for selection, its annotations to render it again. */
export function restoreRecord(deployment: V1Deployment, input: { serverName: string; nowMs: number }): V1Lease {
  const name = deployment.metadata?.name ?? '';
  const annotations = Object.fromEntries(
    Object.entries(deployment.metadata?.annotations ?? {}).filter(([key]) => key.startsWith('allocator.dev/') && !NOT_KEPT.includes(key)),
  );
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: restoreRecordName(name),
      labels: {
        [LABELS.allocator]: input.serverName,
        [LABELS.ownerHash]: deployment.metadata?.labels?.[LABELS.ownerHash] ?? '',
        [LABELS.instance]: name,
        [RESTORE_RECORD_LABEL]: 'true',
      },
      annotations: { ...annotations, [ANNOTATIONS.destroyedAt]: new Date(input.nowMs).toISOString() },
    },
    spec: {},
  };
}

/** The instance a record is of. */
export function recordedInstance(record: V1Lease): string {
  return record.metadata?.labels?.[LABELS.instance] ?? '';
}

/** When the record's instance was destroyed (ms); NaN if unreadable, which is never restorable. */
export function destroyedAtOf(record: V1Lease): number {
  return Date.parse(record.metadata?.annotations?.[ANNOTATIONS.destroyedAt] ?? '');
}

/** Until when a destroy at `destroyedAtMs` can be restored, under the window configured now. */
export function restorableUntil(destroyedAtMs: number, windowMs: number): number {
  return destroyedAtMs + windowMs;
}

export function isRestorable(record: V1Lease, nowMs: number, windowMs: number): boolean {
  const at = destroyedAtOf(record);
  return Number.isFinite(at) && nowMs < restorableUntil(at, windowMs);
}

/** A record as `list --destroyed` shows it. */
export function destroyedInstanceOf(record: V1Lease, windowMs: number): DestroyedInstance {
  const annotations = record.metadata?.annotations ?? {};
  const at = destroyedAtOf(record);
  return {
    name: recordedInstance(record),
    owner: annotations[ANNOTATIONS.owner] ?? '',
    mountName: annotations[ANNOTATIONS.mountName] ?? '',
    destroyedAt: new Date(at).toISOString(),
    restorableUntil: new Date(restorableUntil(at, windowMs)).toISOString(),
  };
}

/** Newest destroy first, then by name. */
export function byNewestDestroyFirst(a: DestroyedInstance, b: DestroyedInstance): number {
  return b.destroyedAt.localeCompare(a.destroyedAt) || a.name.localeCompare(b.name);
}

/** A kept disk's labels: its own, and the time of the destroy in whole seconds. */
export function keptDiskLabels(labels: Readonly<Record<string, string>>, destroyedAtMs: number): Record<string, string> {
  return { ...labels, [DISK_LABELS.destroyedAt]: String(Math.floor(destroyedAtMs / 1000)) };
}

/** A restored disk's labels: its own, without the time of the destroy. */
export function restoredDiskLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const { [DISK_LABELS.destroyedAt]: _destroyedAt, ...rest } = labels;
  return rest;
}

/** When a kept disk's instance was destroyed (ms), or undefined for a disk not kept for a restore. */
export function diskDestroyedAt(labels: Readonly<Record<string, string>>): number | undefined {
  const text = labels[DISK_LABELS.destroyedAt];
  return text !== undefined && /^\d+$/.test(text) ? Number(text) * 1000 : undefined;
}

/** What the lock of a restore goes with: the record, whose deletion ends the restore. */
export function recordOwner(record: V1Lease): V1OwnerReference {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    name: record.metadata?.name ?? '',
    uid: record.metadata?.uid ?? '',
  };
}

/** What a destroy within the restore window keeps: the record of the instance, and the time of the destroy. */
export interface KeepForRestore {
  readonly record: V1Lease;
  readonly destroyedAtMs: number;
}

/**
 * What a destroy of `deployment` at `nowMs` keeps for a restore; undefined
 * without a window. The time is in whole seconds, as the disk's label holds
 * it, so that the record, the answer and the sweep agree on the window's end.
 */
export function keepOnDestroy(
  deployment: V1Deployment,
  input: { serverName: string; nowMs: number; restoreWindowMs: number },
): KeepForRestore | undefined {
  if (input.restoreWindowMs <= 0) return undefined;
  const destroyedAtMs = Math.floor(input.nowMs / 1000) * 1000;
  return { record: restoreRecord(deployment, { serverName: input.serverName, nowMs: destroyedAtMs }), destroyedAtMs };
}
