// What the benchmarks compare against: the same objects and calls a create
// and a destroy make, made directly.
import type { V1Deployment } from '@kubernetes/client-node';
import { isAvailable } from '../shared/instances/instance.ts';
import { diskLabels } from '../shared/instances/metadata.ts';
import { newInstanceName, ownerHashOf } from '../shared/instances/naming.ts';
import { buildInstanceDeployment } from '../shared/plans/deployment.ts';
import type { CreateRuntime } from '../shared/runtime/runtimes.ts';
import type { ClusterClient } from '../shared/kube/cluster.ts';
import type { DisksApi } from '../shared/gce/disks.ts';

/** An owner as a create records it: the token's email and account id. */
export interface Owner {
  readonly email: string;
  readonly subject: string;
}

/** The same Deployment a create sends, from the one function that assembles it. */
export function renderDirect(runtime: CreateRuntime, owner: Owner): { name: string; deployment: V1Deployment } {
  const name = newInstanceName('syncbased');
  const deployment = buildInstanceDeployment(runtime.template, {
    serverName: 'syncbased',
    name,
    diskZone: 'us-central1-c',
    ownerSubject: owner.subject,
    ownerEmail: owner.email,
    admins: [],
    accessListFormat: '{email}',
    mountRoot: '/bench',
    version: 'v1',
    createdAt: new Date().toISOString(),
  });
  return { name, deployment };
}

/**
 * Another owner's instance for the list and sweep measures: no replicas, and
 * paused, so the Deployment controller makes no ReplicaSet for it. Thousands
 * of ReplicaSets would queue behind the controller manager's API rate limit
 * (20 requests a second) and hold up the creates measured after them.
 */
export function idleOther(deployment: V1Deployment): V1Deployment {
  return { ...deployment, spec: { ...deployment.spec!, replicas: 0, paused: true } };
}

/** A create's calls made directly: the disk, the Deployment, then a watch until it is available. */
export async function directCreate(runtime: CreateRuntime, cluster: ClusterClient, disks: DisksApi, owner: Owner): Promise<string> {
  const direct = renderDirect(runtime, owner);
  await disks.createDisk({
    name: direct.name,
    sizeGb: 10,
    type: 'pd-standard',
    labels: diskLabels({ serverName: 'syncbased', ownerHash: ownerHashOf(owner.email), name: direct.name }),
  });
  const created = await cluster.createDeployment(direct.deployment);
  const available = (state: V1Deployment | undefined): boolean => state !== undefined && isAvailable(state);
  let state: V1Deployment | undefined = created;
  while (!available(state)) state = await cluster.watchDeployment(direct.name, state, 60_000, available);
  return direct.name;
}

/** A destroy's calls made directly: the Deployment (foreground), a watch from its delete's answer until it is gone, then the disk. */
export async function directDestroy(cluster: ClusterClient, disks: DisksApi, name: string): Promise<void> {
  let state = await cluster.deleteDeployment(name);
  while (state !== undefined) state = await cluster.watchDeployment(name, state, 60_000, (s) => s === undefined);
  await disks.deleteDisk(name);
}
