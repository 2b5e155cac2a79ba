import type { ExecutionContext } from '../executors/context.ts';
import type { LifecycleSettings } from '../executors/lifecycle.ts';
import { lockDurationMs } from '../plans/lifecycle.ts';
import type { DestroyRuntime } from '../runtime/runtimes.ts';

/** An executor's context for one request: the runtime's clients, and the request's log for what it reports. */
export async function executionContext(runtime: DestroyRuntime, report: (event: string) => void): Promise<ExecutionContext> {
  const { config } = runtime;
  return {
    serverName: config.serverName,
    cluster: await runtime.cluster(),
    disks: runtime.disks(),
    clock: runtime.clock,
    timeouts: { deleteMs: config.deleteTimeoutMs, diskReleaseMs: config.diskReleaseTimeoutMs },
    report,
  };
}

/** What destroy, suspend, resume and reset need from the configuration. */
export function lifecycleSettings(config: DestroyRuntime['config']): LifecycleSettings {
  return { policy: config, disk: config.disk, lockMs: lockDurationMs(config) };
}
