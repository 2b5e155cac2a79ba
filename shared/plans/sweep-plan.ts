import type { V1Deployment } from '@kubernetes/client-node';
import { ANNOTATIONS, LABELS } from '../instances/metadata.ts';
import { HOLDS_SLOTS, NEEDS_DISK, type Phase } from '../model/transitions.ts';
import { isExpired } from './lifetime.ts';

/** What one scan saw of this allocator's objects (times in ms; Infinity when unknown, which never counts as old). */
export interface SweepSnapshot {
  readonly deployments: readonly {
    readonly name: string;
    readonly createdAtMs: number;
    readonly owner: string;
    readonly expiresAt?: string;
    /** Its owner hash label: a per-user slot of another owner was left by a transfer. */
    readonly ownerHash?: string;
    /** Its uid: a slot of its name that it does not own was left by a try whose undo failed. */
    readonly uid?: string;
  }[];
  /** The records: a disk or slot one of them needs is its instance's, whatever its age, and the records' reconciling sees to it. */
  readonly records: readonly SweptRecord[];
  /** `destroyedAtMs`: a disk kept for a restore, labelled with the time of its destroy. */
  readonly disks: readonly { readonly name: string; readonly createdAtMs: number; readonly destroyedAtMs?: number }[];
  readonly slots: readonly {
    readonly name: string;
    readonly instance: string;
    readonly createdAtMs: number;
    /** A per-user slot's owner hash. */
    readonly ownerHash?: string;
    /** The uids of the objects that own it: its Deployment's, once bound. */
    readonly ownerUids?: readonly string[];
    /** Which limit it counts toward. */
    readonly kind?: 'user' | 'global';
  }[];
}

/** What the sweep's plan reads of a record. */
export interface SweptRecord {
  readonly name: string;
  readonly diskName: string;
  readonly phase: Phase;
  /** When it was destroyed, if it was (kept for a restore). */
  readonly destroyedAtMs?: number;
}

/**
 * Whether a record needs its disk: in every phase but queued (none yet) and
 * gone, and once destroyed only within its restore window. Past it, the disk
 * is an orphan, which takes its record with it.
 */
export function needsItsDisk(
  record: Pick<SweptRecord, 'phase' | 'destroyedAtMs'>,
  options: { nowMs: number; restoreWindowMs: number },
): boolean {
  return NEEDS_DISK.has(record.phase) && (record.phase !== 'destroyed' || isKeptForRestore(record.destroyedAtMs, options));
}

export type SweepAction =
  | { readonly kind: 'expired'; readonly name: string; readonly owner: string; readonly expiresAt: string }
  | { readonly kind: 'orphan-deployment'; readonly name: string; readonly createdAt: string }
  | { readonly kind: 'orphan-disk'; readonly name: string; readonly createdAt: string }
  | {
      readonly kind: 'orphan-slot';
      readonly name: string;
      readonly instance: string;
      readonly ownerHash?: string;
      /** The uid of the instance's Deployment, which does not own this slot: a leftover beside the slots it does own. */
      readonly unboundFrom?: string;
    };

export type SweepActionKind = SweepAction['kind'];

export interface SweepPlan {
  /** In order: expired instances, orphan Deployments, orphan disks (together at most `maxDestroys`), then every orphan slot. */
  readonly actions: readonly SweepAction[];
  /** Destroys left for the next sweep by the per-run bound. */
  readonly deferred: number;
  readonly scanned: { readonly deployments: number; readonly disks: number; readonly slots: number };
}

/**
 * Decides what a sweep does: destroy expired instances, and remove what
 * failed creates and hand edits left, never anything younger than the grace
 * period (a create in flight), nor a destroyed instance's disk within its
 * restore window (past it, the disk is an orphan like any other), nor a disk
 * or slot that a record says its instance needs: the records' reconciling
 * ends those instances itself. Destroys are bounded per run; the cheap slot
 * deletions are not.
 */
export function planSweep(
  snapshot: SweepSnapshot,
  options: { nowMs: number; graceMs: number; maxDestroys: number; restoreWindowMs: number },
): SweepPlan {
  const { nowMs } = options;
  const kept = (d: SweepSnapshot['disks'][number]): boolean =>
    isKeptForRestore(d.destroyedAtMs, { nowMs, restoreWindowMs: options.restoreWindowMs });
  const old = (createdAtMs: number): boolean => createdAtMs < nowMs - options.graceMs;
  const deploymentNames = new Set(snapshot.deployments.map((d) => d.name));
  const diskNames = new Set(snapshot.disks.map((d) => d.name));
  const disksNeeded = new Set(snapshot.records.filter((r) => needsItsDisk(r, options)).map((r) => r.diskName));
  const slotsHeld = new Set(snapshot.records.filter((r) => HOLDS_SLOTS.has(r.phase)).map((r) => r.name));
  const iso = (ms: number): string => new Date(ms).toISOString();

  const destroys: SweepAction[] = [
    ...snapshot.deployments
      .filter((d) => isExpired(d.expiresAt, nowMs))
      .map((d): SweepAction => ({ kind: 'expired', name: d.name, owner: d.owner, expiresAt: d.expiresAt ?? '' })),
    ...snapshot.deployments
      .filter((d) => !diskNames.has(d.name) && old(d.createdAtMs) && !isExpired(d.expiresAt, nowMs))
      .map((d): SweepAction => ({ kind: 'orphan-deployment', name: d.name, createdAt: iso(d.createdAtMs) })),
    ...snapshot.disks
      .filter((d) => !deploymentNames.has(d.name) && !disksNeeded.has(d.name) && old(d.createdAtMs) && !kept(d))
      .map((d): SweepAction => ({ kind: 'orphan-disk', name: d.name, createdAt: iso(d.createdAtMs) })),
  ];
  const ownerHashes = new Map(snapshot.deployments.map((d) => [d.name, d.ownerHash]));
  const uids = new Map(snapshot.deployments.map((d) => [d.name, d.uid]));
  // A per-user slot of an owner its instance no longer has: what an interrupted transfer leaves.
  const strays = (s: SweepSnapshot['slots'][number]): boolean =>
    s.ownerHash !== undefined && ownerHashes.get(s.instance) !== undefined && ownerHashes.get(s.instance) !== s.ownerHash;
  // A slot beside one of the same kind that its instance's Deployment owns: a failed undo's leftover. (An instance
  // whose slots are all unbound, by a destroy that failed half way, keeps them: they are the only ones it has.)
  const bound = new Set(
    snapshot.slots.flatMap((s) => {
      const uid = uids.get(s.instance);
      return uid !== undefined && s.ownerUids?.includes(uid) ? [`${s.instance}/${s.kind}`] : [];
    }),
  );
  const unbound = (s: SweepSnapshot['slots'][number]): string | undefined => {
    const uid = uids.get(s.instance);
    return uid !== undefined && s.ownerUids !== undefined && !s.ownerUids.includes(uid) && bound.has(`${s.instance}/${s.kind}`)
      ? uid
      : undefined;
  };
  const slots = snapshot.slots
    .filter(
      (s) =>
        ((!deploymentNames.has(s.instance) && !slotsHeld.has(s.instance)) || strays(s) || unbound(s) !== undefined) && old(s.createdAtMs),
    )
    .map((s): SweepAction => {
      const unboundFrom = strays(s) ? undefined : unbound(s);
      return {
        kind: 'orphan-slot',
        name: s.name,
        instance: s.instance,
        ...(deploymentNames.has(s.instance) && s.ownerHash !== undefined && strays(s) ? { ownerHash: s.ownerHash } : {}),
        ...(unboundFrom !== undefined ? { unboundFrom } : {}),
      };
    });
  const allowed = destroys.slice(0, options.maxDestroys);
  return {
    actions: [...allowed, ...slots],
    deferred: destroys.length - allowed.length,
    scanned: { deployments: snapshot.deployments.length, disks: snapshot.disks.length, slots: snapshot.slots.length },
  };
}

/** Whether a disk destroyed at `destroyedAtMs` (undefined: not kept) is still within the restore window. */
export function isKeptForRestore(destroyedAtMs: number | undefined, options: { nowMs: number; restoreWindowMs: number }): boolean {
  return destroyedAtMs !== undefined && options.nowMs < destroyedAtMs + options.restoreWindowMs;
}

/** What the executor reads again just before acting. */
export interface Reread {
  /** The Deployment named by the action (for an orphan slot: its instance's). */
  readonly deployment: V1Deployment | undefined;
  /** For an orphan Deployment: whether its disk exists now. */
  readonly diskExists?: boolean;
}

/** Whether a fresh read still agrees with `action`: it may have been extended, destroyed or completed since the scan. */
export function stillAgrees(action: SweepAction, reread: Reread, options: { serverName: string; nowMs: number }): boolean {
  const ours = reread.deployment?.metadata?.labels?.[LABELS.allocator] === options.serverName;
  switch (action.kind) {
    case 'expired':
      return ours && isExpired(reread.deployment?.metadata?.annotations?.[ANNOTATIONS.expiresAt], options.nowMs);
    case 'orphan-deployment':
      return ours && reread.diskExists === false;
    case 'orphan-disk':
      return reread.deployment === undefined;
    case 'orphan-slot':
      return (
        reread.deployment === undefined ||
        (action.ownerHash !== undefined && reread.deployment.metadata?.labels?.[LABELS.ownerHash] !== action.ownerHash) ||
        (action.unboundFrom !== undefined && reread.deployment.metadata?.uid === action.unboundFrom)
      );
  }
}
