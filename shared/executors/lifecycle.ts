import type { V1Deployment } from '@kubernetes/client-node';
import type { CallerIdentity } from '../auth/identity.ts';
import type { AccessPolicy } from '../auth/policy.ts';
import { DeadlineExceededError } from '../errors.ts';
import type { Instance } from '../instances/instance.ts';
import { LABELS } from '../instances/metadata.ts';
import { checkNotDeleting, replicasToRestore, resetDisk, scalePatch } from '../plans/lifecycle.ts';
import type { CreateConfig } from '../plans/create-plan.ts';
import type { ExecutionContext } from './context.ts';
import { instanceView } from './diagnose.ts';
import { findInstance } from './find-instance.ts';
import { withLock } from './lock.ts';
import { pollDelays } from './poll.ts';
import { deleteInstanceDisk } from './teardown.ts';
import { waitUntilReady } from './wait-ready.ts';

/** What suspend, resume and reset need besides the adapters. */
export interface LifecycleSettings {
  readonly policy: Pick<AccessPolicy, 'serverName' | 'admins'>;
  readonly disk: CreateConfig['disk'];
  /** The longest an operation may hold the instance's lock. */
  readonly lockMs: number;
}

type Request = { readonly name: string; readonly wait: boolean; readonly waitMs: number };

/** Scales an instance the caller may touch to 0, keeping its disk, name and slots. */
export async function suspendInstance(
  context: ExecutionContext,
  settings: LifecycleSettings,
  caller: CallerIdentity,
  name: string,
): Promise<Instance> {
  const deployment = await findInstance(context.cluster, settings.policy, caller, name);
  checkNotDeleting(deployment, 'be suspended');
  return await withLock(context, { deployment, operation: 'suspend', durationMs: settings.lockMs }, async () => {
    const patched = await context.cluster.patchDeployment(name, scalePatch(0));
    return await instanceView(context.cluster, context.clock, context.serverName, patched);
  });
}

/** Scales an instance back to its template's replicas and, if asked, waits until it is ready. */
export async function resumeInstance(
  context: ExecutionContext,
  settings: LifecycleSettings,
  caller: CallerIdentity,
  request: Request,
): Promise<Instance> {
  const deployment = await findInstance(context.cluster, settings.policy, caller, request.name);
  checkNotDeleting(deployment, 'be resumed');
  return await withLock(context, { deployment, operation: 'resume', durationMs: settings.lockMs }, async () => {
    const patched = await context.cluster.patchDeployment(request.name, scalePatch(replicasToRestore(deployment)));
    return await answer(context, patched, request);
  });
}

/**
 * Wipes an instance's disk and keeps everything else: scales it to 0, waits
 * for its pods to go, deletes the disk once detached, makes a fresh one with
 * the same name and labels, then scales back. A reset that fails part way
 * leaves the instance suspended, never running without its disk; another
 * reset finishes the job.
 */
export async function resetInstance(
  context: ExecutionContext,
  settings: LifecycleSettings,
  caller: CallerIdentity,
  request: Request,
): Promise<Instance> {
  const deployment = await findInstance(context.cluster, settings.policy, caller, request.name);
  checkNotDeleting(deployment, 'be reset');
  return await withLock(context, { deployment, operation: 'reset', durationMs: settings.lockMs }, async () => {
    await context.cluster.patchDeployment(request.name, scalePatch(0));
    await waitUntilPodsGone(context, request.name);
    await deleteInstanceDisk(context, request.name);
    await context.disks.createDisk(resetDisk(deployment, { serverName: context.serverName, disk: settings.disk }));
    context.report(`reset the disk of ${request.name}`);
    const patched = await context.cluster.patchDeployment(request.name, scalePatch(replicasToRestore(deployment)));
    return await answer(context, patched, request);
  });
}

async function answer(context: ExecutionContext, deployment: V1Deployment, request: Request): Promise<Instance> {
  if (!request.wait) return await instanceView(context.cluster, context.clock, context.serverName, deployment);
  return await waitUntilReady(context, request.name, request.waitMs);
}

/** Polls until no pod of the instance is left, so that its disk can be let go. */
async function waitUntilPodsGone(context: ExecutionContext, name: string): Promise<void> {
  const deadline = context.clock.now() + context.timeouts.deleteMs;
  const delays = pollDelays();
  while (
    (await context.cluster.listPods({ labelSelector: `${LABELS.allocator}=${context.serverName},${LABELS.instance}=${name}` })).items
      .length > 0
  ) {
    if (context.clock.now() > deadline)
      throw new DeadlineExceededError(
        `the pods of ${name} were still running after ${Math.round(context.timeouts.deleteMs / 1000)} s; the instance is left suspended, reset it again`,
      );
    await context.clock.sleep(delays.next().value);
  }
}
