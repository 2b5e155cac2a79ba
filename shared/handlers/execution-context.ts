import type { CallerIdentity } from '../auth/identity.ts';
import type { CallerContext } from '../executors/context.ts';
import type { CreateContext } from '../executors/create.ts';
import type { PoolContext } from '../executors/disk-pool.ts';
import type { DestroyContext } from '../executors/destroy.ts';
import type { RestoreContext } from '../executors/restore.ts';
import type { ResetContext } from '../executors/lifecycle.ts';
import type { SweepContext } from '../executors/run-sweep.ts';
import type { CallContext } from '../http/http-function.ts';
import type { LifetimeLimits } from '../plans/lifetime.ts';
import { lockDurationMs } from '../plans/lifecycle.ts';
import type { DestroyRuntime, ListRuntime } from '../runtime/runtimes.ts';

/** Who runs a sweep that no request asked for (the bench's, a test's): it acts on no instance of its own. */
export const SWEEPER: CallerIdentity = { email: 'sweeper@allocator.invalid', subject: 'sweeper', kind: 'serviceAccount' };

/** What list's executor reads with: the cluster, the clock, and who calls. */
export async function callerContext(runtime: ListRuntime, call: Pick<CallContext, 'caller' | 'progress'>): Promise<CallerContext> {
  const { config } = runtime;
  const [cluster, objects] = await Promise.all([runtime.cluster(), runtime.instanceObjects()]);
  return {
    serverName: config.serverName,
    cluster,
    objects,
    clock: runtime.clock,
    caller: call.caller,
    policy: config,
    ...(call.progress ? { progress: call.progress } : {}),
  };
}

/** Everything an executor of create or destroy may read: the runtime's clients and settings, who calls, and the request's log. */
export type FullContext = CreateContext &
  ResetContext &
  SweepContext &
  PoolContext &
  DestroyContext &
  RestoreContext & { readonly lifetime: LifetimeLimits };

/** The context of one request to create or destroy. */
export async function executionContext(
  runtime: DestroyRuntime,
  call: Pick<CallContext, 'caller' | 'report' | 'progress'>,
): Promise<FullContext> {
  const { config } = runtime;
  return {
    ...(await callerContext(runtime, call)),
    disks: runtime.disks(),
    random: runtime.random,
    timeouts: { deleteMs: config.deleteTimeoutMs, diskReleaseMs: config.diskReleaseTimeoutMs },
    report: call.report,
    lockMs: lockDurationMs(config),
    graceMs: config.sweep.graceMs,
    sweep: config.sweep,
    disk: config.disk,
    diskPool: config.diskPool,
    background: runtime.background,
    lifetime: config.lifetime,
    restoreWindowMs: config.restoreWindowMs,
    keptPerUser: config.limits.perUser,
  };
}
