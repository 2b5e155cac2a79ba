import { AllocatorError, AlreadyExistsError } from '../errors.ts';
import { startedAtMs, type InstanceRecord } from '../model/record.ts';
import { judgeLeftovers, recordOfPlan, stillInProgress, type CreatePlan } from '../plans/create-plan.ts';
import { didNotHappen } from './claim-slots.ts';
import type { ExecutionContext } from './context.ts';
import type { UndoStack } from './undo.ts';

/** What a create's record needs beyond the adapters: the sweep's grace period tells an interrupted create's record from a running one's. */
export type RecordContext = ExecutionContext & { readonly graceMs: number };

/**
 * A create without a key drew a name that an instance, or its disk, already
 * has (a suspended instance's, a restorable one's, a leftover): that name is
 * never cleared, and the create tries another.
 */
export class NameTakenError extends AllocatorError {
  override readonly name = 'NameTakenError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(409, 'ALREADY_EXISTS', message, options);
  }
}

/** Deletes the record if this try wrote it (its creation time is this plan's): a create's undo. */
export async function deleteOwnRecord(context: ExecutionContext, plan: Pick<CreatePlan, 'name' | 'createdAt'>): Promise<void> {
  const current = await context.cluster.readRecord(plan.name);
  if (current?.spec.createdAt === plan.createdAt)
    await context.cluster.deleteRecord(plan.name, current.metadata.uid ? { uid: current.metadata.uid } : undefined);
}

/** Creates the instance's record, in phase provisioning until its Deployment exists; its undo deletes it if it is this try's. */
export async function createRecord(context: RecordContext, plan: CreatePlan, undo: UndoStack, pooled: boolean): Promise<InstanceRecord> {
  const record = recordOfPlan(plan, { serverName: context.serverName, pooled });
  const make = (): Promise<InstanceRecord> =>
    undo.step(
      `the record of ${plan.name}`,
      () => deleteOwnRecord(context, plan),
      () => context.cluster.createRecord(record),
      didNotHappen,
    );
  try {
    return await make();
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    if (plan.idempotencyKeyHash === undefined) throw new NameTakenError(`an instance named ${plan.name} exists already`, { cause: error });
  }
  const existing = await context.cluster.readRecord(plan.name);
  if (existing !== undefined) await clearInterrupted(context, plan, existing);
  return await make();
}

/**
 * The key's name is taken by a record of an earlier try, not in line: a kept
 * instance (a 409 not to retry), a create still running (a 409 to retry), or
 * one interrupted, whose record is cleared here so that this try makes its own.
 */
export async function clearInterrupted(context: RecordContext, plan: CreatePlan, existing: InstanceRecord): Promise<void> {
  if (plan.idempotencyKeyHash === undefined) throw new NameTakenError(`an instance named ${plan.name} exists already`);
  const deployment = await context.cluster.readDeployment(plan.name);
  if (existing.status.phase === 'destroyed')
    throw new AlreadyExistsError(
      `instance ${plan.name} was destroyed and its disk is kept for a restore; restore it, or create with another Idempotency-Key`,
    );
  const times = [startedAtMs(existing)];
  // Only a create's own leftover is cleared: a record that a destroy holds or left is that destroy's to finish.
  const interrupted =
    existing.status.phase === 'provisioning' &&
    deployment === undefined &&
    existing.spec.keyHash === plan.idempotencyKeyHash &&
    judgeLeftovers(times, context.clock.now(), context.graceMs) === 'interrupted';
  if (!interrupted) throw stillInProgress(`another create of ${plan.name}`, times, context.clock.now(), context.graceMs);
  context.report(`clearing the record left by an interrupted create of ${plan.name}`);
  await context.cluster.deleteRecord(plan.name, existing.metadata.uid ? { uid: existing.metadata.uid } : undefined);
}
