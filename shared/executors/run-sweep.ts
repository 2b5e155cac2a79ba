import { planSweep } from '../plans/sweep-plan.ts';
import type { ExecutionContext } from './context.ts';
import { executeSweep, type SweepReport } from './sweep.ts';
import { scanForSweep } from './sweep-scan.ts';

/** One sweep: scan this allocator's objects, plan from what was seen, carry the plan out. */
export async function runSweep(
  context: ExecutionContext,
  options: { graceMs: number; maxDestroys: number; dryRun: boolean; lockMs: number },
): Promise<SweepReport> {
  const startedAt = new Date(context.clock.now()).toISOString();
  const snapshot = await scanForSweep(context.cluster, context.disks, context.serverName);
  const plan = planSweep(snapshot, { nowMs: context.clock.now(), graceMs: options.graceMs, maxDestroys: options.maxDestroys });
  return await executeSweep(plan, context, { dryRun: options.dryRun, startedAt, lockMs: options.lockMs });
}
