import type { V1Deployment, V1Lease } from '@kubernetes/client-node';
import { ANNOTATIONS, DISK_LABELS, LABELS } from '../../../shared/instances/metadata.ts';
import { ownerHashOf } from '../../../shared/instances/naming.ts';
import { collaboratorsOf } from '../../../shared/instances/sharing.ts';
import { SLOT_LABEL } from '../../../shared/plans/slots.ts';
import { listInstances } from '../../../shared/executors/list.ts';
import { ADMIN, EVERYONE, LIMITS, type ModelWorld, type Who } from './model-world.ts';

/** One broken invariant, in words that name the objects. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

function fail(message: string): never {
  throw new InvariantError(message);
}

/** Invariants a survey may pass over, by the first words of their message (MODEL_TOLERATE=record,...): to look past a known finding. */
const TOLERATED = (process.env.MODEL_TOLERATE ?? '').split(',').filter((word) => word !== '');
export function tolerated(message: string): boolean {
  return TOLERATED.some((word) => message.startsWith(word));
}

const ownerOf = (deployment: V1Deployment): string => deployment.metadata?.annotations?.[ANNOTATIONS.owner] ?? '';
const diskOf = (deployment: V1Deployment): string | undefined =>
  deployment.spec?.template?.spec?.volumes?.find((volume) => volume.gcePersistentDisk)?.gcePersistentDisk?.pdName;
const slots = (w: ModelWorld, kind: 'user' | 'global'): V1Lease[] =>
  [...w.cluster.leases.values()].filter((lease) => lease.metadata?.labels?.[SLOT_LABEL] === kind);

/**
 * What holds after every command, whatever failed in it: no limit is ever
 * exceeded, no disk serves two instances, and every Deployment names exactly
 * one owner, labelled with that owner's hash.
 */
export function checkAlways(w: ModelWorld): void {
  const perOwner = new Map<string, number>();
  for (const slot of slots(w, 'user')) {
    const hash = slot.metadata?.labels?.[LABELS.ownerHash] ?? '';
    perOwner.set(hash, (perOwner.get(hash) ?? 0) + 1);
  }
  for (const [hash, count] of perOwner)
    if (count > LIMITS.perUser) fail(`owner ${hash} holds ${count} per-user slots, over the limit of ${LIMITS.perUser}`);
  const global = slots(w, 'global').length;
  if (global > LIMITS.global) fail(`${global} global slots are held, over the limit of ${LIMITS.global}`);
  const served = new Map<string, string>();
  for (const [name, deployment] of w.cluster.deployments) {
    const owner = ownerOf(deployment);
    if (owner === '') fail(`Deployment ${name} has no owner`);
    if (deployment.metadata?.labels?.[LABELS.ownerHash] !== ownerHashOf(owner))
      fail(`Deployment ${name}'s owner-hash label is not its owner ${owner}'s`);
    const disk = diskOf(deployment);
    if (disk === undefined) fail(`Deployment ${name} mounts no disk`);
    const other = served.get(disk);
    if (other !== undefined) fail(`disk ${disk} serves both ${other} and ${name}`);
    served.set(disk, name);
  }
}

/**
 * What each person's list shows between commands, whatever failed before:
 * exactly the instances whose Deployments name them as owner or collaborator
 * (an admin's `all`: every one). List selects by labels; this holds them to
 * the annotations that say who may see, through transfers, shares, restores
 * and their failures.
 */
export async function checkLists(w: ModelWorld): Promise<void> {
  const deployments = [...w.cluster.deployments.values()];
  const namesOf = (of: readonly { metadata?: { name?: string } }[]): string[] => of.map((o) => o.metadata?.name ?? '').sort();
  const views: { person: Who; all: boolean }[] = [...EVERYONE.map((person) => ({ person, all: false })), { person: ADMIN, all: true }];
  for (const { person, all } of views) {
    const expected = namesOf(deployments.filter((d) => all || ownerOf(d) === person || collaboratorsOf(d).includes(person)));
    const listed = (await listInstances(w.as(person), { all })).map((instance) => instance.name).sort();
    if (JSON.stringify(listed) !== JSON.stringify(expected) && !tolerated('list'))
      fail(`list by ${person}${all ? ' (all)' : ''} shows ${JSON.stringify(listed)}, not ${JSON.stringify(expected)}`);
  }
}

/** Whether a record is held by an operation now (one past its deadline holds nothing). */
const heldNow = (w: ModelWorld, record: { status: { operation?: { deadline: string } } }): boolean =>
  record.status.operation !== undefined && Date.parse(record.status.operation.deadline) >= w.clock.now();

/**
 * What holds once a sweep has run past the grace period and every lock's
 * deadline, with no fault left: every instance holds its owner's per-user
 * slot (and no other owner's) and a global slot, runs on a disk that exists,
 * agrees with its record; every disk is an instance's, kept for a restore,
 * or the pool's (its record in phase destroyed); every slot is a live instance's; the pool is at its size.
 */
export function checkSettled(w: ModelWorld): void {
  checkAlways(w);
  const allSlots = [...slots(w, 'user'), ...slots(w, 'global')];
  for (const [name, deployment] of w.cluster.deployments) {
    const own = allSlots.filter((slot) => slot.metadata?.labels?.[LABELS.instance] === name);
    const user = own.filter((slot) => slot.metadata?.labels?.[SLOT_LABEL] === 'user');
    const hash = ownerHashOf(ownerOf(deployment));
    if ((user.length !== 1 || user[0]?.metadata?.labels?.[LABELS.ownerHash] !== hash) && !tolerated('slots'))
      fail(
        `instance ${name} (owner ${ownerOf(deployment)}) holds per-user slots ${JSON.stringify(user.map(slotSummary))}, not exactly its owner's`,
      );
    const global = own.filter((slot) => slot.metadata?.labels?.[SLOT_LABEL] === 'global');
    if (global.length !== 1 && !tolerated('slots')) fail(`instance ${name} holds ${global.length} global slots`);
    const disk = diskOf(deployment) ?? '';
    if (!w.disks.disks.has(disk)) fail(`instance ${name}'s disk ${disk} does not exist`);
    const record = w.cluster.records.get(name);
    if (record && !heldNow(w, record) && !tolerated('agree')) {
      if (record.spec.owner.email !== ownerOf(deployment))
        fail(`instance ${name}: its record's owner is ${record.spec.owner.email}, its Deployment's ${ownerOf(deployment)}`);
      const a = JSON.stringify(record.spec.collaborators);
      const b = JSON.stringify(collaboratorsOf(deployment));
      if (a !== b) fail(`instance ${name}: its record's collaborators are ${a}, its Deployment's ${b}`);
    }
  }
  for (const slot of allSlots) {
    const instance = slot.metadata?.labels?.[LABELS.instance] ?? '';
    if (!w.cluster.deployments.has(instance)) fail(`slot ${slot.metadata?.name} is held for ${instance}, which has no Deployment`);
  }
  for (const [name, record] of w.cluster.records) {
    if (w.cluster.deployments.has(name)) continue;
    if ((record.status.phase !== 'destroyed' || heldNow(w, record)) && !tolerated('record'))
      fail(
        `record ${name} (phase ${record.status.phase}${record.status.operation ? `, ${record.status.operation.kind}` : ''}) has no Deployment`,
      );
  }
  for (const [name, disk] of w.disks.disks) {
    if (disk.labels[DISK_LABELS.pool] !== undefined) continue;
    if (w.cluster.deployments.has(name)) continue;
    if (w.cluster.records.get(name)?.status.phase === 'destroyed') continue;
    fail(`disk ${name} is no instance's, kept for no restore, and not the pool's`);
  }
  checkKeptCount(w);
  if (w.settings.poolSize > 0) {
    const free = [...w.disks.disks.values()].filter((disk) => disk.labels[DISK_LABELS.poolState] === 'free').length;
    if (free !== w.settings.poolSize) fail(`the pool has ${free} free disks after a sweep, not its size ${w.settings.poolSize}`);
  }
}

/**
 * Kept instances count toward a limit of their own, as many as an owner may
 * run: once no destroy is in flight, no owner has more records in phase
 * destroyed (disks kept for a restore) than that.
 */
export function checkKeptCount(w: ModelWorld): void {
  const keptPerOwner = new Map<string, number>();
  for (const record of w.cluster.records.values()) {
    if (record.status.phase !== 'destroyed' || heldNow(w, record)) continue;
    keptPerOwner.set(record.spec.owner.email, (keptPerOwner.get(record.spec.owner.email) ?? 0) + 1);
  }
  for (const [owner, count] of keptPerOwner)
    if (count > LIMITS.perUser) fail(`${owner} has ${count} instances kept for a restore, over their count of ${LIMITS.perUser}`);
}

/** Once everything has expired and been swept: nothing but the pool's free disks. */
export function checkEmpty(w: ModelWorld): void {
  const left = {
    deployments: [...w.cluster.deployments.keys()],
    leases: [...w.cluster.leases.keys()],
    records: [...w.cluster.records.keys()],
    disks: [...w.disks.disks.values()].filter((disk) => disk.labels[DISK_LABELS.pool] === undefined).map((disk) => disk.name),
  };
  if (tolerated('record')) left.records = [];
  if (Object.values(left).some((names) => names.length > 0)) fail(`left after everything expired: ${JSON.stringify(left)}`);
  checkSettled(w);
}

function slotSummary(slot: V1Lease): string {
  return `${slot.metadata?.name}(${slot.metadata?.labels?.[LABELS.ownerHash]})`;
}
