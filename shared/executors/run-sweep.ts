import { planSweep } from '../plans/sweep-plan.ts';
import type { ServiceConfig } from '../config/service-config.ts';
import type { ExecutionContext } from './context.ts';
import { sweepPool } from './sweep-pool.ts';
import { executeSweep, type SweepReport } from './sweep.ts';
import { scanForSweep } from './sweep-scan.ts';
import { reconcileRecords } from './sweep-records.ts';

/** The sweep's settings: its grace period, its bound on destroys per run, and the lock duration of each destroy. */
export type SweepContext = ExecutionContext & {
  readonly lockMs: number;
  /** Disks kept for a restore are left alone this long after their destroy. */
  readonly restoreWindowMs: number;
  /** How many kept disks an owner may have at once. */
  readonly keptPerUser: number;
  readonly sweep: { readonly graceMs: number; readonly maxDestroys: number };
  readonly disk: ServiceConfig['disk'];
  readonly diskPool: ServiceConfig['diskPool'];
};

/** One sweep: scan this allocator's objects, plan from what was seen, carry the plan out; and, beside it, the disk pool's. */
export async function runSweep(context: SweepContext, request: { readonly dryRun: boolean }): Promise<SweepReport> {
  const startedAt = new Date(context.clock.now()).toISOString();
  const instances = async (): Promise<Omit<SweepReport, 'pool'>> => {
    const { snapshot, deployments, records } = await scanForSweep(context);
    const plan = planSweep(snapshot, { nowMs: context.clock.now(), ...context.sweep, restoreWindowMs: context.restoreWindowMs });
    const report = await executeSweep(context, { plan, dryRun: request.dryRun, startedAt });
    // The records last: the instances destroyed above are gone or kept by now, and this walk lists them again to see
    // them so; when nothing was done, the scan's list is still what there is.
    const unchanged = request.dryRun || plan.actions.length === 0;
    const failed: SweepReport['failed'][number][] = [];
    const reconciled = await reconcileRecords(
      { ...context, graceMs: context.sweep.graceMs },
      { ...request, deployments, failed, ...(unchanged ? { records } : {}) },
    );
    for (const line of reconciled) context.report(line);
    return { ...report, reconciled, failed: [...report.failed, ...failed] };
  };
  // Both halves end before the sweep answers, whichever fails: a half left running would act after the answer, unseen.
  const [instancesDone, poolDone] = await Promise.allSettled([instances(), sweepPool(context, request)]);
  if (instancesDone.status === 'rejected') throw instancesDone.reason;
  if (poolDone.status === 'rejected') throw poolDone.reason;
  const [report, pool] = [instancesDone.value, poolDone.value];
  return {
    ...report,
    pool: pool.pool,
    failed: [...report.failed, ...pool.failed],
    finishedAt: new Date(context.clock.now()).toISOString(),
  };
}
