import type { V1Deployment } from '@kubernetes/client-node';
import type { ServiceConfig } from '../config/service-config.ts';
import { ANNOTATIONS, diskLabels, LABELS, RESTARTED_AT_ANNOTATION } from '../instances/metadata.ts';
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

/** The merge patch that restarts an instance's pods: a new rollout of the same template, on the same disk. */
export function restartPatch(nowMs: number): object {
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: new Date(nowMs).toISOString() } } } } };
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
