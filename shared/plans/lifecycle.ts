import type { V1Deployment } from '@kubernetes/client-node';
import type { ServiceConfig } from '../config/service-config.ts';
import { AbortedError } from '../errors.ts';
import { ANNOTATIONS, diskLabels, LABELS } from '../instances/metadata.ts';
import type { DiskSpec } from './create-plan.ts';

/** What resume and reset scale back to: the template's replica count, kept at create. */
export function replicasToRestore(deployment: V1Deployment): number {
  const kept = Number(deployment.metadata?.annotations?.[ANNOTATIONS.replicas]);
  return Number.isInteger(kept) && kept > 0 ? kept : 1;
}

/** The merge patch that scales an instance. */
export function scalePatch(replicas: number): object {
  return { spec: { replicas } };
}

/** Refuses an operation on an instance that is being destroyed: a 409 that a retry turns into the 404 of its absence. */
export function checkNotDeleting(deployment: V1Deployment, operation: string): void {
  if (deployment.metadata?.deletionTimestamp)
    throw new AbortedError(`instance ${deployment.metadata.name} is being destroyed; it cannot ${operation}`, { retryAfterSeconds: 5 });
}

/** The fresh disk a reset makes: the same name and labels as the instance's first one, the configured size, type and source. */
export function resetDisk(deployment: V1Deployment, config: Pick<ServiceConfig, 'serverName' | 'disk'>): DiskSpec {
  const name = deployment.metadata?.name ?? '';
  const ownerHash = deployment.metadata?.labels?.[LABELS.ownerHash] ?? '';
  return {
    name,
    sizeGb: config.disk.sizeGb,
    type: config.disk.type,
    labels: diskLabels({ serverName: config.serverName, ownerHash, name }),
    ...(config.disk.source ? { source: { ...config.disk.source } } : {}),
  };
}

/** The longest an operation may hold an instance's lock: its waits end well within this, or it has crashed. */
export function lockDurationMs(config: {
  waitTimeoutMs: number;
  deleteTimeoutMs: number;
  diskReleaseTimeoutMs: number;
  callTimeoutMs: number;
}): number {
  return config.waitTimeoutMs + config.deleteTimeoutMs + config.diskReleaseTimeoutMs + 10 * config.callTimeoutMs;
}
