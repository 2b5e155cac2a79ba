import type { V1Lease } from '@kubernetes/client-node';
import { LABELS, SLOT_LABEL } from '../instances/metadata.ts';

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
export { SLOT_LABEL };

export type SlotKind = 'user' | 'global';

/** One limit: the slot names to try, how to find the taken ones, and what one create puts on the slot it takes. */
export interface SlotPool {
  readonly kind: SlotKind;
  /**
   * Slot i is named `<prefix><i>`, for i < size: made when tried, as a pool
   * may hold 10,000 slots of which a create tries three.
   */
  readonly prefix: string;
  readonly size: number;
  /** Selects the taken slots of this pool. */
  readonly selector: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `<instance>/<attempt>`: tells this try's slots from those of a retry of the same create. */
  readonly holder: string;
  /** The 429's message when every slot is taken. */
  readonly exhausted: string;
  /** Where to try first: a name picked at random, so that concurrent creates rarely meet. */
  readonly start: number;
}

export function slotName(pool: Pick<SlotPool, 'prefix'>, index: number): string {
  return `${pool.prefix}${index}`;
}

/** The slots of one instance, whichever try took them. */
export function instanceSlotSelector(serverName: string, instance: string): string {
  return `${LABELS.allocator}=${serverName},${SLOT_LABEL},${LABELS.instance}=${instance}`;
}

export function slotPools(input: {
  serverName: string;
  ownerHash: string;
  instance: string;
  attempt: string;
  limits: { perUser: number; global: number };
  random: number;
}): { user: SlotPool; global: SlotPool } {
  const { serverName, ownerHash, instance, limits } = input;
  const holder = `${instance}/${input.attempt}`;
  const labels = (kind: SlotKind) => ({
    [LABELS.allocator]: serverName,
    [SLOT_LABEL]: kind,
    [LABELS.ownerHash]: ownerHash,
    [LABELS.instance]: instance,
  });
  return {
    user: {
      kind: 'user',
      prefix: `${serverName}-u-${ownerHash}-`,
      size: limits.perUser,
      selector: `${LABELS.allocator}=${serverName},${SLOT_LABEL}=user,${LABELS.ownerHash}=${ownerHash}`,
      labels: labels('user'),
      holder,
      exhausted: `you already have ${limits.perUser} instance${limits.perUser === 1 ? '' : 's'}, the most allowed per user; destroy one first`,
      start: 0, // a person's own slots: the lowest free one, so their creates meet and the limit shows at once
    },
    global: {
      kind: 'global',
      prefix: `${serverName}-g-`,
      size: limits.global,
      selector: `${LABELS.allocator}=${serverName},${SLOT_LABEL}=global`,
      labels: labels('global'),
      holder,
      exhausted: `the allocator already runs ${limits.global} instances, its limit; try again later`,
      start: input.random % limits.global,
    },
  };
}

export function slotLease(pool: SlotPool, name: string): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, labels: { ...pool.labels } },
    spec: { holderIdentity: pool.holder },
  };
}
