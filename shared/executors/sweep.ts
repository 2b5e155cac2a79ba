import type { V1Deployment } from '@kubernetes/client-node';
import type { SweepReport } from '../api-types.ts';
import { AbortedError } from '../errors.ts';
import { describeErrorChain } from '../http/request-log.ts';
import { LABELS } from '../instances/metadata.ts';
import { diskDestroyedAt } from '../plans/restore-record.ts';
import type { InstanceRecord } from '../model/record.ts';
import { HOLDS_SLOTS } from '../model/transitions.ts';
import {
  isKeptForRestore,
  needsItsDisk,
  stillAgrees,
  type SweepAction,
  type SweepActionKind,
  type SweepPlan,
} from '../plans/sweep-plan.ts';

export type { SweepReport };
import type { ExecutionContext } from './context.ts';
import { tearDown, type KeepContext } from './destroy.ts';
import { deleteInstanceDisk, deleteLease, deleteRecordAsRead } from './teardown.ts';
import { sweptRecord } from './sweep-scan.ts';

const PARALLEL = 4;

type SweepActContext = ExecutionContext & { readonly lockMs: number } & KeepContext;

/**
 * Carries out a sweep plan, four actions at a time. Each action re-reads
 * what it is about to remove and goes ahead only if that still agrees with
 * the plan, so a sweep is idempotent and safe beside creates, destroys,
 * extensions and other sweeps.
 */
export async function executeSweep(
  context: SweepActContext,
  request: { readonly plan: SweepPlan; readonly dryRun: boolean; readonly startedAt: string },
): Promise<Omit<SweepReport, 'pool' | 'reconciled'>> {
  const { plan } = request;
  const done: SweepAction[] = [];
  const failed: SweepReport['failed'][number][] = [];
  const run = async (action: SweepAction): Promise<void> => {
    if (request.dryRun) return void done.push(action);
    try {
      if (await act(action, context)) done.push(action);
    } catch (error) {
      failed.push({ kind: action.kind, name: action.name, error: describeErrorChain(error) });
    }
  };
  // Destroys first, then the slots that they may have freed anyway.
  await inParallel(
    plan.actions.filter((a) => a.kind !== 'orphan-slot'),
    run,
  );
  await inParallel(
    plan.actions.filter((a) => a.kind === 'orphan-slot'),
    run,
  );
  const of = <K extends SweepActionKind>(kind: K): Omit<Extract<SweepAction, { kind: K }>, 'kind'>[] =>
    done
      .filter((a): a is Extract<SweepAction, { kind: K }> => a.kind === kind)
      .map(({ kind: _kind, ...entry }) => entry as Omit<Extract<SweepAction, { kind: K }>, 'kind'>);
  return {
    dryRun: request.dryRun,
    startedAt: request.startedAt,
    finishedAt: new Date(context.clock.now()).toISOString(),
    expired: of('expired'),
    orphanDisks: of('orphan-disk'),
    orphanDeployments: of('orphan-deployment'),
    orphanSlots: of('orphan-slot'),
    failed,
    deferred: plan.deferred,
    scanned: plan.scanned,
  };
}

/** One action, if a fresh read still agrees with it; whether it was done. */
async function act(action: SweepAction, context: SweepActContext): Promise<boolean> {
  const { cluster, disks, clock, serverName } = context;
  let reread: V1Deployment | undefined;
  const agrees = async (diskExists?: boolean): Promise<boolean> => {
    reread = await cluster.readDeployment(action.kind === 'orphan-slot' ? action.instance : action.name);
    return stillAgrees(
      action,
      { deployment: reread, ...(diskExists === undefined ? {} : { diskExists }) },
      { serverName, nowMs: clock.now() },
    );
  };
  const ourRecord = async (name: string): Promise<InstanceRecord | undefined> => {
    const record = await cluster.readRecord(name);
    return record?.metadata.labels[LABELS.allocator] === serverName ? record : undefined;
  };
  // An instance in the middle of another operation (a reset, say) waits for the next sweep.
  // An expired instance is destroyed as a destroy would: within a restore window, its disk is kept.
  const destroy = async (keep: boolean): Promise<boolean> => {
    try {
      await tearDown(context, { name: action.name, bySweep: true, ...(keep ? {} : { now: true }) });
      return true;
    } catch (error) {
      if (error instanceof AbortedError) return false;
      throw error;
    }
  };
  switch (action.kind) {
    case 'expired':
      return (await agrees()) && (await destroy(true));
    case 'orphan-deployment':
      return (await agrees((await disks.getDisk(action.name)) !== undefined)) && (await destroy(false));
    case 'orphan-disk': {
      if (!(await agrees())) return false;
      const disk = await disks.getDisk(action.name);
      // Kept for a restore since the scan (restored and destroyed again): its window starts over.
      if (disk && isKeptForRestore(diskDestroyedAt(disk.labels), { nowMs: clock.now(), restoreWindowMs: context.restoreWindowMs }))
        return false;
      // A record that needs it (made or restored since the scan): its instance's, which the records' reconciling ends if it must.
      const record = await ourRecord(action.name);
      const window = { nowMs: clock.now(), restoreWindowMs: context.restoreWindowMs };
      if (record?.spec.disk.name === action.name && needsItsDisk(sweptRecord(record), window)) return false;
      // First: a record never outlives its disk, so a restore is never promised for a disk that is going. Only the record
      // as read: one a restore has taken since keeps its disk.
      if (record?.status.phase === 'destroyed' && !(await deleteRecordAsRead(context, record))) return false;
      return (await deleteInstanceDisk(context, action.name, Promise.resolve(disk))) === 'deleted';
    }
    case 'orphan-slot': {
      if (!(await agrees())) return false;
      // Without a Deployment, a slot is still its instance's while the record holds slots; beside one, the plan's reason stands.
      const plain = action.ownerHash === undefined && action.unboundFrom === undefined;
      const record = plain ? await ourRecord(action.instance) : undefined;
      if (record !== undefined && HOLDS_SLOTS.has(record.status.phase)) return false;
      const lease = await cluster.readLease(action.name);
      // Still held for that instance (and that owner): not a slot taken since under the same name.
      const labels = lease?.metadata?.labels;
      const same =
        labels?.[LABELS.instance] === action.instance &&
        (action.ownerHash === undefined || labels[LABELS.ownerHash] === action.ownerHash) &&
        (action.unboundFrom === undefined || !lease?.metadata?.ownerReferences?.some((reference) => reference.uid === action.unboundFrom));
      return same && lease !== undefined && (await deleteLease(context, lease));
    }
  }
}

async function inParallel<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}
