import type { V1Deployment, V1Lease } from '@kubernetes/client-node';
import { ConflictError, QuotaExceededError } from '../errors.ts';
import type { ClusterClient } from '../kube/cluster.ts';
import { LABELS } from '../instances/metadata.ts';

/**
 * Instance limits, exact under concurrency. Each instance holds one per-user
 * slot and one global slot: Leases with fixed names (`<server>-u-<owner>-<i>`
 * for i < per-user limit, `<server>-g-<j>` for j < global limit). The API
 * server lets only one create of a name succeed, so N concurrent creates
 * across any number of function instances never hold more slots than there
 * are; counting and then creating, as allocatord did, could.
 *
 * Once the Deployment exists, its slots get it as owner, so deleting the
 * Deployment (by Allocator or by hand) frees them through the garbage collector.
 */
export const SLOT_LABEL = 'allocator.dev/slot';

export function userSlotNames(serverName: string, ownerHash: string, perUser: number): string[] {
  return Array.from({ length: perUser }, (_, i) => `${serverName}-u-${ownerHash}-${i}`);
}

export function globalSlotNames(serverName: string, global: number): string[] {
  return Array.from({ length: global }, (_, j) => `${serverName}-g-${j}`);
}

export function slotLease(options: { name: string; kind: 'user' | 'global'; serverName: string; ownerHash: string; instance: string }): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: options.name,
      labels: { [LABELS.allocator]: options.serverName, [SLOT_LABEL]: options.kind, [LABELS.ownerHash]: options.ownerHash, [LABELS.instance]: options.instance },
    },
    spec: { holderIdentity: options.instance },
  };
}

/** Tries the free names first (one list call), then takes the first whose create succeeds. */
async function claimOne(cluster: ClusterClient, names: readonly string[], selector: string, lease: (name: string) => V1Lease): Promise<string | undefined> {
  const taken = new Set<string>();
  let continueToken: string | undefined;
  do {
    const page = await cluster.listLeases({ labelSelector: selector, limit: 500, ...(continueToken ? { continueToken } : {}) });
    for (const item of page.items) if (item.metadata?.name) taken.add(item.metadata.name);
    continueToken = page.continueToken;
  } while (continueToken);
  for (const name of names) {
    if (taken.has(name)) continue;
    try {
      await cluster.createLease(lease(name));
      return name;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error; // somebody took it meanwhile
    }
  }
  return undefined;
}

/** Claims a per-user and a global slot for `instance`, or throws a 429 holding none. */
export async function claimSlots(
  cluster: ClusterClient,
  options: { serverName: string; ownerHash: string; instance: string; limits: { perUser: number; global: number } },
): Promise<string[]> {
  const { serverName, ownerHash, instance, limits } = options;
  const user = await claimOne(
    cluster,
    userSlotNames(serverName, ownerHash, limits.perUser),
    `${LABELS.allocator}=${serverName},${SLOT_LABEL}=user,${LABELS.ownerHash}=${ownerHash}`,
    (name) => slotLease({ name, kind: 'user', serverName, ownerHash, instance }),
  );
  if (user === undefined) {
    throw new QuotaExceededError(`you already have ${limits.perUser} instance${limits.perUser === 1 ? '' : 's'}, the most allowed per user; destroy one first`);
  }
  let global: string | undefined;
  try {
    global = await claimOne(cluster, globalSlotNames(serverName, limits.global), `${LABELS.allocator}=${serverName},${SLOT_LABEL}=global`, (name) =>
      slotLease({ name, kind: 'global', serverName, ownerHash, instance }),
    );
  } finally {
    if (global === undefined) await cluster.deleteLease(user);
  }
  if (global === undefined) throw new QuotaExceededError(`the allocator already runs ${limits.global} instances, its limit; try again later`);
  return [user, global];
}

/** Makes the Deployment the owner of its slots, so that they go when it goes. */
export async function bindSlots(cluster: ClusterClient, slots: readonly string[], deployment: V1Deployment): Promise<void> {
  const ownerReferences = [
    { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata?.name ?? '', uid: deployment.metadata?.uid ?? '', blockOwnerDeletion: true },
  ];
  await Promise.all(slots.map((slot) => cluster.patchLease(slot, { metadata: { ownerReferences } })));
}

/** Deletes the slots held by `instance`; missing ones are fine. */
export async function releaseSlots(cluster: ClusterClient, serverName: string, instance: string): Promise<void> {
  const page = await cluster.listLeases({ labelSelector: `${LABELS.allocator}=${serverName},${LABELS.instance}=${instance}` });
  await Promise.all(page.items.map((lease) => cluster.deleteLease(lease.metadata?.name ?? '')));
}
