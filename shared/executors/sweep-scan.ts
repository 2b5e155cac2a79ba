import { allDisks, type DisksApi } from '../gce/disks.ts';
import { ANNOTATIONS, DISK_LABELS, LABELS } from '../instances/metadata.ts';
import { timeOf } from '../instances/timestamps.ts';
import { allItems, type ClusterClient } from '../kube/cluster.ts';
import { destroyedAtOf, diskDestroyedAt } from '../plans/restore-record.ts';
import { SLOT_LABEL } from '../plans/slots.ts';
import type { SweepSnapshot, SweptRecord } from '../plans/sweep-plan.ts';
import type { InstanceRecord } from '../model/record.ts';
import type { V1Deployment } from '@kubernetes/client-node';
import type { ExecutionContext } from './context.ts';

const PAGE = 500;

/**
 * Reads every Deployment, disk, slot and record of this allocator, page by
 * page, all at once: they are independent, and each action is checked
 * against a fresh read before it is taken.
 */
export async function scanForSweep(context: Pick<ExecutionContext, 'cluster' | 'disks' | 'serverName'>): Promise<{
  readonly snapshot: SweepSnapshot;
  readonly deployments: readonly V1Deployment[];
  readonly records: readonly InstanceRecord[];
}> {
  const { cluster, disks, serverName } = context;
  const [listed, diskList, slots, records] = await Promise.all([
    allItems((continueToken) =>
      cluster.listDeployments({
        labelSelector: `${LABELS.allocator}=${serverName}`,
        limit: PAGE,
        ...(continueToken ? { continueToken } : {}),
      }),
    ),
    scanDisks(disks, serverName),
    scanSlots(cluster, serverName),
    allItems((continueToken) =>
      cluster.listRecords({ labelSelector: `${LABELS.allocator}=${serverName}`, limit: PAGE, ...(continueToken ? { continueToken } : {}) }),
    ),
  ]);
  const needs = records.map((record) => sweptRecord(record));
  // The Deployments and records as listed go to the records' reconciling too: one list of each for both.
  return { snapshot: { deployments: summarized(listed), disks: diskList, slots, records: needs }, deployments: listed, records };
}

function summarized(listed: readonly V1Deployment[]): SweepSnapshot['deployments'][number][] {
  return listed.flatMap((deployment) => {
    const name = deployment.metadata?.name;
    const annotations = deployment.metadata?.annotations ?? {};
    const expiresAt = annotations[ANNOTATIONS.expiresAt];
    const ownerHash = deployment.metadata?.labels?.[LABELS.ownerHash];
    return name
      ? [
          {
            name,
            createdAtMs: timeOf(deployment.metadata?.creationTimestamp),
            owner: annotations[ANNOTATIONS.owner] ?? '',
            ...(deployment.metadata?.uid ? { uid: deployment.metadata.uid } : {}),
            ...(expiresAt ? { expiresAt } : {}),
            ...(ownerHash ? { ownerHash } : {}),
          },
        ]
      : [];
  });
}

async function scanDisks(disks: DisksApi, serverName: string): Promise<SweepSnapshot['disks'][number][]> {
  const listed = await allDisks(disks, { filter: `labels.${DISK_LABELS.allocator} = "${serverName}"`, maxResults: PAGE });
  return listed.flatMap((disk) =>
    disk.labels[DISK_LABELS.allocator] === serverName && disk.labels[DISK_LABELS.instance] === disk.name
      ? [{ name: disk.name, createdAtMs: timeOf(disk.creationTimestamp), ...destroyedAt(disk.labels) }]
      : [],
  );
}

function destroyedAt(labels: Readonly<Record<string, string>>): { destroyedAtMs?: number } {
  const at = diskDestroyedAt(labels);
  return at === undefined ? {} : { destroyedAtMs: at };
}

async function scanSlots(cluster: ClusterClient, serverName: string): Promise<SweepSnapshot['slots'][number][]> {
  const listed = await allItems((continueToken) =>
    cluster.listLeases({
      labelSelector: `${LABELS.allocator}=${serverName},${SLOT_LABEL}`,
      limit: PAGE,
      ...(continueToken ? { continueToken } : {}),
    }),
  );
  return listed.flatMap((lease) => {
    const name = lease.metadata?.name;
    const labels = lease.metadata?.labels ?? {};
    const instance = labels[LABELS.instance];
    const ownerHash = labels[SLOT_LABEL] === 'user' ? labels[LABELS.ownerHash] : undefined;
    return name && instance
      ? [
          {
            name,
            instance,
            createdAtMs: timeOf(lease.metadata?.creationTimestamp),
            ownerUids: (lease.metadata?.ownerReferences ?? []).map((reference) => reference.uid),
            ...(labels[SLOT_LABEL] === 'user' || labels[SLOT_LABEL] === 'global' ? { kind: labels[SLOT_LABEL] } : {}),
            ...(ownerHash ? { ownerHash } : {}),
          },
        ]
      : [];
  });
}

/** A record as the sweep's plan reads it. */
export function sweptRecord(record: InstanceRecord): SweptRecord {
  const destroyedAtMs = destroyedAtOf(record);
  return {
    name: record.metadata.name,
    diskName: record.spec.disk.name,
    phase: record.status.phase,
    ...(Number.isFinite(destroyedAtMs) ? { destroyedAtMs } : {}),
  };
}
