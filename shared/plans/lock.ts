import type { V1Deployment, V1Lease, V1OwnerReference } from '@kubernetes/client-node';
import { LABELS } from '../instances/metadata.ts';

/**
 * One operation at a time on an instance: a Lease named after it, which the
 * API server lets only one request create. The Deployment owns it (a
 * restore's: the restore record), so it goes with the instance; a lock older than its duration was left by a crashed
 * process and may be taken over.
 */
export const LOCK_LABEL = 'allocator.dev/lock';
export const LOCKED_AT = 'allocator.dev/locked-at';

export function lockName(instance: string): string {
  return `${instance}-lock`;
}

/** What a lock goes with: the instance's Deployment, or (for a restore, which has none yet) its restore record. */
export function deploymentOwner(deployment: V1Deployment): V1OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata?.name ?? '', uid: deployment.metadata?.uid ?? '' };
}

export function lockLease(input: {
  serverName: string;
  /** The instance's name. */
  instance: string;
  /** The object the lock goes with when it is deleted. */
  owner: V1OwnerReference;
  operation: string;
  holder: string;
  nowMs: number;
  durationMs: number;
}): V1Lease {
  const name = input.instance;
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: lockName(name),
      labels: { [LABELS.allocator]: input.serverName, [LABELS.instance]: name, [LOCK_LABEL]: input.operation },
      annotations: { [LOCKED_AT]: new Date(input.nowMs).toISOString() },
      ownerReferences: [{ ...input.owner }],
    },
    spec: { holderIdentity: input.holder, leaseDurationSeconds: Math.ceil(input.durationMs / 1000) },
  };
}

/** Whether a lock outlived its duration: its holder died without releasing it. */
export function isStale(lease: V1Lease, nowMs: number): boolean {
  const lockedAt = Date.parse(lease.metadata?.annotations?.[LOCKED_AT] ?? '');
  const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
  return !Number.isFinite(lockedAt) || lockedAt + duration < nowMs;
}

/** The operation a lock is held for, as its label says. */
export function lockedFor(lease: V1Lease): string {
  return lease.metadata?.labels?.[LOCK_LABEL] ?? 'another operation';
}
