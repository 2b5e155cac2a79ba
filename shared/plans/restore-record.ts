import type { V1Lease } from '@kubernetes/client-node';
import type { DestroyedInstance } from '../api-types.ts';
import { ANNOTATIONS, DISK_LABELS, instanceParameters, LABELS, LEGACY_ANNOTATIONS, RESTORE_RECORD_LABEL } from '../instances/metadata.ts';
import { collaboratorsOf } from '../instances/sharing.ts';
import { newRecord, type InstanceRecord } from '../model/record.ts';

/**
 * Restore after a destroy. Within the restore window a destroy keeps the
 * instance's disk, labelled with the time of the destroy, and its record, in
 * phase `destroyed` with that time: everything a restore needs to render the
 * instance again. The window is today's setting, applied to the time kept.
 */

/** Until when a destroy at `destroyedAtMs` can be restored, under the window configured now. */
export function restorableUntil(destroyedAtMs: number, windowMs: number): number {
  return destroyedAtMs + windowMs;
}

/** When a record's instance was destroyed (ms), kept while a restore holds it; NaN for one never destroyed, which is never restorable. */
export function destroyedAtOf(record: InstanceRecord): number {
  return Date.parse(record.status.destroyedAt ?? '');
}

export function isRestorable(record: InstanceRecord, nowMs: number, windowMs: number): boolean {
  const at = destroyedAtOf(record);
  return Number.isFinite(at) && nowMs < restorableUntil(at, windowMs);
}

/** A destroyed record as `list --destroyed` shows it. */
export function destroyedInstanceOf(record: InstanceRecord, windowMs: number): DestroyedInstance {
  const at = destroyedAtOf(record);
  return {
    name: record.metadata.name,
    owner: record.spec.owner.email,
    mountName: record.spec.mountName,
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

/**
 * The time a destroy at `nowMs` keeps for a restore, in whole seconds as the
 * disk's label holds it, so that the record, the answer and the sweep agree
 * on the window's end; undefined without a window.
 */
export function keptAt(nowMs: number, restoreWindowMs: number): number | undefined {
  return restoreWindowMs > 0 ? Math.floor(nowMs / 1000) * 1000 : undefined;
}

/**
 * Which of an owner's kept instances go so that no more than `limit` stay:
 * kept disks count toward a limit of their own, as many as the owner may
 * run, and the oldest destroy goes first.
 */
export function keptToDrop(kept: readonly InstanceRecord[], limit: number): InstanceRecord[] {
  const oldestFirst = [...kept].sort((a, b) => destroyedAtOf(a) - destroyedAtOf(b) || a.metadata.name.localeCompare(b.metadata.name));
  return oldestFirst.slice(0, Math.max(0, oldestFirst.length - Math.max(0, limit)));
}

/** The name of a restore record as releases before the Instance record wrote it: a Lease. */
export function legacyRestoreLeaseName(instance: string): string {
  return `${instance}-restore`;
}

/** The selector of the restore Leases that releases before the Instance record left, for the sweep to carry over. */
export function legacyRestoreLeaseSelector(serverName: string): string {
  return `${LABELS.allocator}=${serverName},${RESTORE_RECORD_LABEL}`;
}

/** The record of an instance destroyed by a release before records, read from its restore Lease. */
export function recordFromLegacyRestoreLease(lease: V1Lease, serverName: string): InstanceRecord | undefined {
  const annotations = lease.metadata?.annotations ?? {};
  const name = lease.metadata?.labels?.[LABELS.instance];
  const destroyedAt = Date.parse(annotations[ANNOTATIONS.destroyedAt] ?? '');
  const owner = annotations[ANNOTATIONS.owner];
  if (!name || !owner || !Number.isFinite(destroyedAt)) return undefined;
  const subject = annotations[ANNOTATIONS.ownerSubject];
  const record = newRecord({
    serverName,
    name,
    phase: 'destroyed',
    spec: {
      owner: { email: owner, ...(subject ? { subject } : {}) },
      ...(annotations[LEGACY_ANNOTATIONS.creator] ? { creator: annotations[LEGACY_ANNOTATIONS.creator] } : {}),
      collaborators: collaboratorsOf({ metadata: { annotations } }),
      parameters: instanceParameters(annotations),
      mountName: annotations[ANNOTATIONS.mountName] ?? '',
      version: annotations[ANNOTATIONS.version] ?? '',
      createdAt: annotations[ANNOTATIONS.createdAt] ?? new Date(destroyedAt).toISOString(),
      disk: { name: annotations[ANNOTATIONS.disk] ?? name, zone: '' },
    },
  });
  return { ...record, status: { phase: 'destroyed', destroyedAt: new Date(destroyedAt).toISOString() } };
}
