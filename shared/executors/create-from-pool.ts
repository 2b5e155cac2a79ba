import type { V1Lease } from '@kubernetes/client-node';
import { AlreadyExistsError } from '../errors.ts';
import { StaleFingerprintError, type DiskInfo, type LabelsChange } from '../gce/disks.ts';
import { DISK_LABELS } from '../instances/metadata.ts';
import { timeOf } from '../instances/timestamps.ts';
import type { CreatePlan } from '../plans/create-plan.ts';
import { claimedLabels } from '../plans/disk-pool.ts';
import { keyRecordLabels, keyRecordLease, keyRecordName, stillInProgress } from '../plans/replay.ts';
import { didNotHappen } from './claim-slots.ts';
import { createSteps, executeCreate, readReplaySeen, replayOrClear, type CreateContext } from './create.ts';
import { freeDisksToTry, giveBackPoolDisk, refillInBackground, type PoolContext } from './disk-pool.ts';
import { deleteLease } from './teardown.ts';
import { UndoStack } from './undo.ts';
import type { Instance } from '../instances/instance.ts';

/** What a create with the pool on is given: a plan for the name it ends up with (none: the name it would have without the pool). */
export interface PooledCreateRequest {
  readonly planFor: (name?: string) => CreatePlan;
}

/**
 * A create with the warm pool on. It claims a free pool disk by replacing its
 * labels on the fingerprint it listed (Compute Engine refuses a stale one, so
 * no two creates get one disk; the loser tries the next), names the instance
 * after it, fires the insert of a replacement, and goes on as any create,
 * without the disk step. With no free disk it makes its own, as without the
 * pool, and so does a create that may wait in the queue. A keyed create first
 * records which name it makes (`keyRecordLease`), so that a retry finds it; a
 * failure gives the disk back.
 */
export async function executePooledCreate(context: CreateContext & PoolContext, request: PooledCreateRequest): Promise<Instance> {
  const { cluster } = context;
  const unpooled = request.planFor();
  // A create that may wait in line makes its own disk, named after its key: a waiter holds no pool disk (which the
  // sweep would take for an orphan, and which would drain the pool), and a re-sent request finds the same record in line.
  if (unpooled.queue) return await executeCreate(context, unpooled);
  const keyHash = unpooled.idempotencyKeyHash;
  const recordName = keyHash === undefined ? undefined : keyRecordName(context.serverName, keyHash);
  // A keyed create's reads all at once: its record, and what a create without the pool would have read of its name.
  const [record, free, unpooledSeen] = await Promise.all([
    recordName === undefined ? undefined : cluster.readLease(recordName),
    freeDisksToTry(context),
    keyHash === undefined ? undefined : readReplaySeen(context, unpooled.name),
  ]);
  if (keyHash !== undefined) {
    const recorded = record?.spec?.holderIdentity;
    const replayed = recorded
      ? await replayOrClear(context, request.planFor(recorded), keyHash)
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
    const steps = { undo, ...(recordName === undefined ? {} : { keyRecord: recordName }) };
    for (const disk of free) {
      const plan = request.planFor(disk.name);
      await recordKey(plan);
      const claimed = await claim(context, { disk, plan, undo });
      if (claimed === undefined) continue;
      context.report(`claimed the pool disk ${disk.name}`);
      return await createSteps(context, { ...steps, plan, claimed, whenCreated: () => refillInBackground(context, 1) });
    }
    context.report(free.length === 0 ? 'the disk pool is empty: making a disk' : 'every free pool disk was claimed first: making a disk');
    await recordKey(unpooled);
    return await createSteps(context, { ...steps, plan: unpooled });
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

/** Claims `disk` for `plan`'s instance, on the fingerprint listed; undefined if another create claimed it first. */
async function claim(
  context: CreateContext & PoolContext,
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
    if (error instanceof StaleFingerprintError) return undefined;
    throw error;
  }
}
