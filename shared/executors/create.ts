import type { V1Deployment, V1Lease } from '@kubernetes/client-node';
import { AlreadyExistsError, NotFoundError } from '../errors.ts';
import type { InstanceRecord } from '../model/record.ts';
import { createRecord, NameTakenError } from './create-record.ts';
import { instanceFromDeployment, isAvailable, type Instance } from '../instances/instance.ts';
import { endpointsOf } from '../instances/endpoints.ts';
import { ownedByRecord } from '../plans/instance-objects.ts';
import type { InstanceObject, InstanceService } from '../template/validate-objects.ts';
import { ANNOTATIONS, DISK_LABELS } from '../instances/metadata.ts';
import { timeOf } from '../instances/timestamps.ts';
import {
  checkReplay,
  judgeLeftovers,
  keyRecordLabels,
  keyRecordLease,
  keyRecordName,
  stillInProgress,
  type CreatePlan,
} from '../plans/create-plan.ts';
import { diskDestroyedAt } from '../plans/restore-record.ts';
import { claimSlots, didNotHappen } from './claim-slots.ts';
import type { ExecutionContext } from './context.ts';
import { StaleFingerprintError, type DiskInfo, type LabelsChange } from '../gce/disks.ts';
import { claimedLabels } from '../plans/disk-pool.ts';
import { freeDisksToTry, giveBackPoolDisk, refillInBackground, type PoolContext } from './disk-pool.ts';
import { blameDiskSource } from './disk-source.ts';
import { claimSlotsInTurn, type QueueContext } from './queue.ts';
import { deleteInstanceDisk, deleteLease, deleteLeases, instanceSlots, isInstanceDisk } from './teardown.ts';
import { UndoStack } from './undo.ts';
import { instanceView } from './instance-view.ts';
import { waitUntilReady } from './wait-ready.ts';
import { waitUntilDeploymentGone } from './wait.ts';

export { NameTakenError };

/** Create's context: the sweep's grace period also tells an interrupted create's parts from a running one's; and the pool. */
export type CreateContext = QueueContext & PoolContext & { readonly graceMs: number };

/**
 * What a create is given: its plan, for a name it keeps; or a planner, for
 * the name it ends up with, which the warm pool decides (none: the name it
 * has without the pool).
 */
export type CreateOrder = CreatePlan | { readonly planFor: (name?: string) => CreatePlan };

/**
 * Runs a create: the key's replay, then its steps: the record, the slots,
 * the disk (a free pool disk's claim, or one made), the Deployment, and (if
 * asked) the wait until it is available. Any failure undoes every step that
 * was sent, answered or not, before it is thrown.
 *
 * A pool disk is claimed by replacing its labels on the fingerprint listed
 * (Compute Engine refuses a stale one, so no two creates get one disk; the
 * loser tries the next); the instance is named after it, and a replacement's
 * insert is fired. A create given its plan, or one that may wait in line,
 * makes its own disk: a waiter holds no pool disk, which would drain the
 * pool, and a re-sent request finds the same record in line. A keyed create
 * named after a pool disk first records which name it makes
 * (`keyRecordLease`), so that a retry finds it.
 */
export async function executeCreate(context: CreateContext, order: CreateOrder): Promise<Instance> {
  const { cluster } = context;
  const planFor = 'planFor' in order ? order.planFor : () => order;
  const unpooled = planFor();
  const pooled = 'planFor' in order && context.diskPool.size > 0 && unpooled.queue === undefined;
  const keyHash = unpooled.idempotencyKeyHash;
  const recordName = pooled && keyHash !== undefined ? keyRecordName(context.serverName, keyHash) : undefined;
  // A keyed create's reads all at once: its record, the free pool disks, and what it has made under its own name.
  const [record, free, unpooledSeen] = await Promise.all([
    recordName === undefined ? undefined : cluster.readLease(recordName),
    pooled ? freeDisksToTry(context) : [],
    keyHash === undefined ? undefined : readReplaySeen(context, unpooled.name),
  ]);
  if (keyHash !== undefined) {
    const recorded = record?.spec?.holderIdentity;
    const replayed = recorded
      ? await replayOrClear(context, planFor(recorded), keyHash)
      : await replayOrClear(context, unpooled, keyHash, unpooledSeen);
    if (replayed) return replayed;
  }
  const undo = new UndoStack(context.report);
  try {
    let held: V1Lease | undefined;
    /** Records (or moves) the key's instance to `plan`'s name, before its disk is claimed or made. */
    const recordKey = async (plan: CreatePlan): Promise<void> => {
      if (recordName === undefined || keyHash === undefined) return;
      const ownerHash = plan.disk.labels[DISK_LABELS.ownerHash] ?? '';
      if (held) {
        held = await cluster.patchLease(
          recordName,
          {
            metadata: { labels: keyRecordLabels({ serverName: context.serverName, ownerHash, instance: plan.name }) },
            spec: { holderIdentity: plan.name },
          },
          held.metadata?.uid ? { uid: held.metadata.uid } : undefined,
        );
        return;
      }
      held = await undo
        .step(
          `the record of the key's instance`,
          () => forgetKey(context, held),
          () => cluster.createLease(keyRecordLease({ serverName: context.serverName, keyHash, ownerHash, instance: plan.name })),
          didNotHappen,
        )
        .catch(async (error: unknown) => {
          if (!(error instanceof AlreadyExistsError)) throw error;
          const other = await cluster.readLease(recordName);
          const times = [timeOf(other?.metadata?.creationTimestamp)];
          throw stillInProgress('a create with this Idempotency-Key', times, context.clock.now(), context.graceMs);
        });
    };
    for (const disk of free) {
      const plan = planFor(disk.name);
      await recordKey(plan);
      const claimed = await claimPoolDisk(context, { disk, plan, undo });
      if (claimed === undefined) continue;
      context.report(`claimed the pool disk ${disk.name}`);
      return await createSteps(context, { undo, plan, claimed, whenCreated: () => refillInBackground(context, 1) });
    }
    if (pooled)
      context.report(free.length === 0 ? 'the disk pool is empty: making a disk' : 'every free pool disk was claimed first: making a disk');
    await recordKey(unpooled);
    return await createSteps(context, { undo, plan: unpooled });
  } catch (error) {
    await undo.unwind();
    throw error;
  }
}

/** Deletes the key's record after a failed try, unless the instance it names could not be undone: a retry then answers with it. */
async function forgetKey(context: CreateContext, record: V1Lease | undefined): Promise<void> {
  const name = record?.spec?.holderIdentity;
  if (record === undefined || name === undefined || name === null) return;
  if (await context.cluster.readDeployment(name)) {
    context.report(`kept the record of the key's instance: ${name} could not be removed`);
    return;
  }
  await deleteLease(context, record);
}

/** Claims `disk` for `plan`'s instance, on the fingerprint listed; undefined if another create claimed it first, or it is gone. */
async function claimPoolDisk(
  context: CreateContext,
  request: { disk: DiskInfo; plan: CreatePlan; undo: UndoStack },
): Promise<LabelsChange | undefined> {
  const { disk, plan } = request;
  let change: LabelsChange | undefined;
  try {
    change = await request.undo.step(
      `the pool disk ${disk.name}`,
      () => giveBackPoolDisk(context, disk.name, change),
      () =>
        context.disks.setLabels({
          name: disk.name,
          labels: claimedLabels(plan.disk.labels, disk),
          labelFingerprint: disk.labelFingerprint,
        }),
      didNotHappen,
    );
    return change;
  } catch (error) {
    // Claimed by another create first, or deleted since the list (the sweep retires spare pool disks): the next one.
    if (error instanceof StaleFingerprintError || error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/** What `createSteps` is given beyond the plan: a pool disk already claimed for it. */
export interface CreateSteps {
  readonly plan: CreatePlan;
  /** Where each step's undo goes; the caller unwinds it on failure. */
  readonly undo: UndoStack;
  /** The instance's disk, claimed from the pool: its labels' operation, awaited before the answer. */
  readonly claimed?: LabelsChange;
  /** Runs once the Deployment exists (the pool's refill), so that its work overlaps the wait rather than the steps. */
  readonly whenCreated?: () => void;
}

/** The slots, the disk (unless claimed), the Deployment, and the wait: every step on `undo`, which the caller unwinds on failure. */
export async function createSteps(context: CreateContext, request: CreateSteps): Promise<Instance> {
  const { plan, undo } = request;
  const { cluster } = context;
  // What the Deployment needs (its record, slots and disk) is undone only once the Deployment is gone: one that
  // could not be removed stands as an instance within the limits, for a retry to answer or its owner to destroy.
  const needs = new UndoStack(context.report);
  const sent: DeploymentSent = { mayHaveMade: false };
  undo.push(`what the Deployment ${plan.name} needs`, () =>
    undoUnlessStanding(context, { plan, needs, sent, kept: 'record, slots and disk' }),
  );
  const { record } = plan.queue
    ? await claimSlotsInTurn(context, { ...plan, queue: plan.queue }, needs)
    : await claim(context, { ...request, undo: needs });
  context.progress?.('slots');
  if (request.claimed === undefined) await createDisk(context, plan, needs);
  context.progress?.('disk', { pooled: request.claimed !== undefined });
  // The slots need no owner: the record holds them, and its destroy (or the sweep's) deletes them by their label.
  const finish = () => Promise.all([cluster.replaceRecord({ ...record, status: { phase: 'running' } }, 'status'), request.claimed?.done]);
  return await startInstance(context, {
    plan,
    undo,
    sent,
    record,
    taken: (error) =>
      plan.idempotencyKeyHash === undefined
        ? new NameTakenError(`a Deployment named ${plan.name} exists already`, { cause: error })
        : error,
    finish,
    ...(request.whenCreated ? { whenCreated: request.whenCreated } : {}),
  });
}

/**
 * What create and restore share once the slots and the disk are there: the
 * Deployment (a 409 is `taken`'s to word), the template's other objects,
 * `finish` (whatever else the operation finishes with) under the wait for
 * ready, or the answer at once without it.
 * Each step is on `undo`, which the caller unwinds on failure.
 */
export async function startInstance(
  context: ExecutionContext,
  request: {
    readonly plan: Pick<CreatePlan, 'name' | 'createdAt' | 'deployment' | 'objects' | 'wait' | 'waitMs'>;
    readonly undo: UndoStack;
    /** Filled in as the Deployment is sent, for `undoUnlessStanding`. */
    readonly sent: DeploymentSent;
    readonly record: InstanceRecord;
    readonly taken: (error: AlreadyExistsError) => Error;
    readonly finish?: () => Promise<unknown>;
    /** Runs once the Deployment exists (the pool's refill), so that its work overlaps the wait rather than the steps. */
    readonly whenCreated?: () => void;
  },
): Promise<Instance> {
  const { plan, undo, sent } = request;
  const created = await undo
    .step(
      `the Deployment ${plan.name}`,
      () => deleteOwnDeployment(context, plan),
      async () => {
        sent.mayHaveMade = true;
        const made = await context.cluster.createDeployment(plan.deployment);
        sent.uid = made.metadata?.uid;
        return made;
      },
      didNotHappen,
    )
    .catch((error: unknown) => {
      if (didNotHappen(error)) sent.mayHaveMade = false;
      throw error instanceof AlreadyExistsError ? request.taken(error) : error;
    });
  // The Services and ConfigMaps, owned by the record so that deleting it deletes them; each on the undo stack.
  await createObjects(context, { plan, undo, record: request.record });
  context.progress?.('deployment');
  request.whenCreated?.();
  // The finish and the wait for ready are independent: the finish's round trips run under the wait.
  const finish = request.finish?.();
  finish?.catch(() => undefined); // awaited below; a failure then undoes it all
  const answer = plan.wait
    ? await waitUntilReady(context, {
        name: plan.name,
        timeoutMs: plan.waitMs,
        then: '; it was removed',
        seen: created,
        noServices: !plan.objects.some(isService),
      })
    : instanceFromDeployment(created, [], endpointsOf(plan.objects.filter(isService), context.objects.namespace));
  await finish;
  return answer;
}

/** What a try knows of the Deployment it sent: whether it may have made it (sent, and not refused), and its uid once answered. */
export interface DeploymentSent {
  mayHaveMade: boolean;
  uid?: string | undefined;
}

/**
 * Unwinds `needs` (what `plan`'s Deployment runs on: its slots, and for a
 * create its record and disk) unless this try's Deployment still stands, or
 * whether it does cannot be read: then it keeps them, saying so as `kept`.
 * A Deployment of the name that this try never made (another try's of the
 * same key, planned in the same millisecond) is not its own.
 */
export async function undoUnlessStanding(
  context: ExecutionContext,
  request: {
    readonly plan: Pick<CreatePlan, 'name' | 'createdAt'>;
    readonly needs: UndoStack;
    readonly sent: DeploymentSent;
    readonly kept: string;
  },
): Promise<void> {
  const { plan, sent } = request;
  const own = (deployment: V1Deployment | undefined): boolean =>
    deployment !== undefined &&
    (sent.uid !== undefined
      ? deployment.metadata?.uid === sent.uid
      : deployment.metadata?.annotations?.[ANNOTATIONS.createdAt] === plan.createdAt);
  const standing = sent.mayHaveMade && (await context.cluster.readDeployment(plan.name).then(own, () => true));
  if (standing) {
    context.report(`kept the ${request.kept} of ${plan.name}: its Deployment could not be removed`);
    return;
  }
  await request.needs.unwind();
}

/** The record and the slots of a create that does not wait in line. */
async function claim(context: CreateContext, request: CreateSteps): Promise<{ slots: string[]; record: InstanceRecord }> {
  const { plan, undo } = request;
  // The record goes beside the slots' claim: it needs only the name, and its 409 is the name's.
  const record = createRecord(context, plan, undo, request.claimed !== undefined);
  record.catch(() => undefined); // awaited below
  const slots = await claimSlots(context.cluster, plan.slots, undo);
  return { slots, record: await record };
}

/**
 * Creates the template's Services and ConfigMaps after the Deployment, each
 * owned by the record. One that exists already (409) is left as it is: only
 * a keyed create's earlier try can have made it under this name. Each undo
 * deletes it. Restore makes them again the same way.
 */
export async function createObjects(
  context: ExecutionContext,
  request: { readonly plan: Pick<CreatePlan, 'name' | 'objects'>; readonly undo: UndoStack; readonly record: InstanceRecord },
): Promise<void> {
  const { plan, undo, record } = request;
  const uid = record.metadata.uid;
  await Promise.all(
    plan.objects.map((object) =>
      undo.step(
        `the ${object.kind} ${object.metadata.name}`,
        () => context.objects.delete(object.kind, object.metadata.name),
        () => context.objects.create(uid ? ownedByRecord(object, { name: plan.name, uid }) : object),
        didNotHappen,
      ),
    ),
  );
}

const isService = (object: InstanceObject): object is InstanceService => object.kind === 'Service';

/** What a keyed create reads of a name before it goes on: its Deployment, and any slots held for it. */
export interface ReplaySeen {
  readonly deployment: V1Deployment | undefined;
  readonly leftovers: readonly V1Lease[];
}

/** Both reads of `replayOrClear` at once, for a caller that can start them beside its own. */
export async function readReplaySeen(context: CreateContext, name: string): Promise<ReplaySeen> {
  const [deployment, leftovers] = await Promise.all([context.cluster.readDeployment(name), instanceSlots(context, name)]);
  return { deployment, leftovers };
}

/** A create with a key: the instance it made answers again; parts of an interrupted try are cleared. */
export async function replayOrClear(
  context: CreateContext,
  plan: CreatePlan,
  keyHash: string,
  seen?: ReplaySeen,
): Promise<Instance | undefined> {
  const { cluster, clock } = context;
  const existing = seen ? seen.deployment : await cluster.readDeployment(plan.name);
  if (existing) {
    checkReplay(existing, { keyHash, nowMs: clock.now(), parameters: plan.parameters });
    if (!plan.wait || isAvailable(existing)) return await instanceView(context, existing);
    return await waitUntilReady(context, { name: plan.name, timeoutMs: plan.waitMs });
  }
  const leftovers = seen ? seen.leftovers : await instanceSlots(context, plan.name);
  const times = leftovers.map((lease) => timeOf(lease.metadata?.creationTimestamp));
  const verdict = judgeLeftovers(times, clock.now(), context.graceMs);
  if (verdict === 'in-progress') throw stillInProgress('a create with this Idempotency-Key', times, clock.now(), context.graceMs);
  if (verdict === 'interrupted') {
    context.report(`clearing ${leftovers.length} slot(s) left by an interrupted create of ${plan.name}`);
    await deleteLeases(context, leftovers);
  }
  return undefined;
}

/**
 * Creates the disk. One that exists already is never touched unless create
 * can prove it its own: for a create without a key, any disk of the name is
 * a collision (`NameTakenError`). For a keyed create, it is this caller's
 * leftover of an interrupted try only when it carries the caller's owner hash
 * and no Deployment of the name exists: then, past the grace period, it is
 * cleared and made again; younger, a running try's (a 409 to retry). A disk
 * kept for a restore is never a leftover.
 * Anything else is somebody else's (a 409 not to retry). A configured source
 * that Compute Engine cannot use is the operator's to fix (`blameDiskSource`).
 */
async function createDisk(context: CreateContext, plan: CreatePlan, undo: UndoStack): Promise<void> {
  const label = `the disk ${plan.name}`;
  const make = (): Promise<void> =>
    undo
      .step(
        label,
        () => deleteInstanceDisk(context, plan.name),
        () => context.disks.createDisk(plan.disk),
        didNotHappen,
      )
      .catch((error: unknown) => {
        throw blameDiskSource(error, plan.disk.source);
      });
  try {
    return await make();
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    if (plan.idempotencyKeyHash === undefined) throw new NameTakenError(`a disk named ${plan.name} exists already`, { cause: error });
  }
  const [existing, deployment] = await Promise.all([context.disks.getDisk(plan.name), context.cluster.readDeployment(plan.name)]);
  if (existing === undefined && deployment === undefined) return await make(); // deleted meanwhile
  const ownHash = plan.disk.labels[DISK_LABELS.ownerHash];
  if (existing !== undefined && !isInstanceDisk(existing, context.serverName)) {
    throw new AlreadyExistsError(`a disk named ${plan.name} already exists and is not this allocator's; it was left alone`);
  }
  if (existing !== undefined && diskDestroyedAt(existing.labels) !== undefined) {
    throw new AlreadyExistsError(
      `instance ${plan.name} was destroyed and its disk is kept for a restore; restore it, or create with another Idempotency-Key`,
    );
  }
  if (existing === undefined || deployment !== undefined || existing.labels[DISK_LABELS.ownerHash] !== ownHash) {
    throw new AlreadyExistsError(`a disk named ${plan.name} already exists and is not a leftover of yours; it was left alone`);
  }
  const times = [timeOf(existing.creationTimestamp)];
  if (judgeLeftovers(times, context.clock.now(), context.graceMs) === 'in-progress') {
    throw stillInProgress(`another create of ${plan.name}`, times, context.clock.now(), context.graceMs);
  }
  context.report(`clearing the disk left by an interrupted create of ${plan.name}`);
  await deleteInstanceDisk(context, plan.name);
  await make();
}

/** Deletes the Deployment if this try made it (its creation time is this plan's), and waits until it is gone. */
export async function deleteOwnDeployment(context: ExecutionContext, plan: Pick<CreatePlan, 'name' | 'createdAt'>): Promise<void> {
  const current: V1Deployment | undefined = await context.cluster.readDeployment(plan.name);
  if (current?.metadata?.annotations?.[ANNOTATIONS.createdAt] !== plan.createdAt) return;
  const left = await context.cluster.deleteDeployment(plan.name);
  if (left) await waitUntilDeploymentGone(context, { name: plan.name, timeoutMs: context.timeouts.deleteMs, seen: left });
}
