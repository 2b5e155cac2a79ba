import type { V1Deployment, V1Lease } from '@kubernetes/client-node';
import { isAllowedEmail } from '../auth/allowed-emails.ts';
import { BadRequestError, NotFoundError } from '../errors.ts';
import type { TransferAnswer } from '../api-types.ts';
import { ANNOTATIONS, LABELS } from '../instances/metadata.ts';
import { ownerHashOf } from '../instances/naming.ts';
import { accessPatch, collaboratorsAfterTransfer } from '../plans/access-plan.ts';
import { objectsSelector } from '../plans/instance-objects.ts';
import { SLOT_LABEL, slotPools, type SlotPool } from '../plans/slots.ts';
import { claimOne, didNotHappen } from './claim-slots.ts';
import { instanceView } from './instance-view.ts';
import { deploymentOf } from './lifecycle.ts';
import { normalized, type AccessContext } from './share.ts';
import { runTransition } from './transition.ts';
import { creatorOf, type InstanceRecord } from '../model/record.ts';
import { deleteLease, instanceSlots } from './teardown.ts';
import { UndoStack } from './undo.ts';

/** Transfer's request: which instance, and who is to own it. */
export interface TransferRequest {
  readonly name: string;
  readonly to: string;
}

/**
 * Gives an instance to `to`, in three steps, each safe to be the last:
 * 1. claim a per-user slot of the new owner (their 429 if they are at their
 *    limit, and nothing changes);
 * 2. one patch of the Deployment: owner labels and annotations, the access
 *    list, the template rendered again. The instance has the old owner
 *    before it and the new one after it, never both or neither;
 * 3. let the old owner's slot go.
 * A crash between them leaves a slot of the owner the instance does not
 * have, which the sweep removes once older than its grace period (a
 * transfer's own steps take seconds), and a retry finishes the job. The new
 * owner's account id is not known until they call: the owner-sub annotation
 * is removed, and pinned at their first operation on it (`runTransition`).
 * The creator stays recorded (the record's `spec.creator`, CreatorInfo).
 */
export async function transferInstance(context: AccessContext, request: TransferRequest): Promise<TransferAnswer> {
  const [to] = normalized([request.to]);
  if (to === undefined) throw new BadRequestError('"to" is required: the email of the new owner');
  if (!isAllowedEmail(to, context.access))
    throw new BadRequestError(`${to} may not use this allocator (ALLOCATOR_ALLOWED_CALLERS); nothing changed`);
  try {
    return await runTransition(context, { name: request.name, kind: 'transfer' }, async (held) => {
      const current = deploymentOf(held);
      const from = ownerOf(current);
      if (from === to && context.caller.email === to) throw new BadRequestError(`you already own ${request.name}`);
      const slots = await instanceSlots(context, request.name);
      const handed = from === to ? current : await handOver(context, { current, record: held.record, to, slots });
      await objectsFollow(context, handed);
      // Done now, or by an earlier try: the old owner's slot, if a crash left it, goes too; one that stays is the sweep's.
      await Promise.all(
        userSlots(slots)
          .filter((lease) => ownerHashLabel(lease) !== ownerHashOf(to))
          .map((lease) =>
            deleteLease(context, lease).catch((error: unknown) =>
              context.report(`could not let go of ${lease.metadata?.name}: ${(error as Error).message}; the sweep removes it`),
            ),
          ),
      );
      return {
        result: await instanceView(context, handed),
        spec: (spec) => ({
          ...spec,
          owner: { email: to },
          creator: creatorOf(held.record),
          collaborators: collaboratorsAfterTransfer(current, to),
        }),
        ...(from !== to ? { status: { previousOwner: from } } : {}),
      };
    });
  } catch (error) {
    const done = error instanceof NotFoundError ? await transferredBy(context, request.name, to) : undefined;
    // The previous owner's retry of a transfer that happened (a lost answer): they no longer see the instance, so only that it is done.
    if (done) {
      await objectsFollow(context, done);
      return { name: request.name, owner: to, transferred: true };
    }
    throw error;
  }
}

/** Steps 1 and 2: the new owner's slot (one an interrupted try took is theirs already), then the Deployment. */
async function handOver(
  context: AccessContext,
  request: { current: V1Deployment; record: InstanceRecord; to: string; slots: readonly V1Lease[] },
): Promise<V1Deployment> {
  const { current, record, to, slots } = request;
  const name = current.metadata?.name ?? '';
  const undo = new UndoStack(context.report);
  let mayHaveHappened = false;
  try {
    if (!userSlots(slots).some((lease) => ownerHashLabel(lease) === ownerHashOf(to))) {
      await claimOne(context.cluster, newOwnerPool(context, name, to), undo);
    }
    const patch = accessPatch(context.template, context.access, current, {
      owner: { email: to },
      collaborators: collaboratorsAfterTransfer(current, to),
      creator: creatorOf(record),
    });
    const patched = await context.cluster.patchDeployment(name, patch).catch((error: unknown) => {
      mayHaveHappened = !didNotHappen(error);
      throw error;
    });
    context.report(`transferred ${name} from ${ownerOf(current)} to ${to}`);
    return patched;
  } catch (error) {
    // Whatever its answer said, the Deployment says whether the patch happened, and the record must agree with it.
    const now = await context.cluster.readDeployment(name).catch(() => undefined);
    if (now !== undefined && ownerOf(now) === to) {
      context.report(`transferred ${name} from ${ownerOf(current)} to ${to} (its answer was lost)`);
      return now;
    }
    // Otherwise it keeps the new owner's slot: whichever owner's slot is left over goes in the sweep, or at a retry.
    if (mayHaveHappened) context.report(`the transfer of ${name} to ${to} may not have happened; a retry finishes it`);
    else await undo.unwind();
    throw error;
  }
}

/**
 * The template's Services and ConfigMaps carry their owner's hash, as the
 * Deployment does (list reads an owner's Services by it, beside the
 * Deployments): after a transfer they take the Deployment's. Setting a label
 * to what the Deployment says is safe to repeat, so a retry finishes it.
 */
async function objectsFollow(context: AccessContext, deployment: V1Deployment): Promise<void> {
  const name = deployment.metadata?.name ?? '';
  const ownerHash = deployment.metadata?.labels?.[LABELS.ownerHash];
  if (ownerHash === undefined) return;
  const labelSelector = objectsSelector(context.serverName, [name]);
  const [services, configMaps] = await Promise.all([
    context.objects.list('Service', { labelSelector }),
    context.objects.list('ConfigMap', { labelSelector }),
  ]);
  const stale = [
    ...services.map((object) => ({ kind: 'Service' as const, object })),
    ...configMaps.map((object) => ({ kind: 'ConfigMap' as const, object })),
  ].filter(({ object }) => object.metadata?.labels?.[LABELS.ownerHash] !== ownerHash);
  await Promise.all(
    stale.map(({ kind, object }) => context.objects.relabel(kind, object.metadata?.name ?? '', { [LABELS.ownerHash]: ownerHash })),
  );
}

function newOwnerPool(context: AccessContext, instance: string, to: string): SlotPool {
  const { user } = slotPools({
    serverName: context.serverName,
    ownerHash: ownerHashOf(to),
    instance,
    attempt: `transfer-${context.random(4).toString('hex')}`,
    limits: { perUser: context.access.limits.perUser, global: context.access.limits.global },
    random: 0,
  });
  const { perUser } = context.access.limits;
  return {
    ...user,
    exhausted: `${to} already has ${perUser} instance${perUser === 1 ? '' : 's'}, the most allowed per user; they must destroy one first, and nothing changed`,
  };
}

/** The instance, if its record says its last transfer was the caller's, to `to`: their retry (a lost answer) is answered as done. */
async function transferredBy(context: AccessContext, name: string, to: string): Promise<V1Deployment | undefined> {
  const [record, deployment] = await Promise.all([context.cluster.readRecord(name), context.cluster.readDeployment(name)]);
  const ours = record?.metadata.labels[LABELS.allocator] === context.serverName && deployment !== undefined;
  return ours && record.spec.owner.email === to && record.status.previousOwner === context.caller.email && ownerOf(deployment) === to
    ? deployment
    : undefined;
}

function ownerOf(deployment: V1Deployment): string {
  return deployment.metadata?.annotations?.[ANNOTATIONS.owner] ?? '';
}

function userSlots(slots: readonly V1Lease[]): V1Lease[] {
  return slots.filter((lease) => lease.metadata?.labels?.[SLOT_LABEL] === 'user');
}

function ownerHashLabel(lease: V1Lease): string | undefined {
  return lease.metadata?.labels?.[LABELS.ownerHash];
}
