import type { V1Deployment } from '@kubernetes/client-node';
import { DeadlineExceededError } from '../errors.ts';
import type { Instance } from '../instances/instance.ts';
import { objectsSelector } from '../plans/instance-objects.ts';
import { NotFoundError } from '../errors.ts';
import { replicasToRestore, resetDisk, restartPatch, scalePatch } from '../plans/lifecycle.ts';
import type { CreateConfig } from '../plans/create-plan.ts';
import type { InstanceContext } from './context.ts';
import { instanceView } from './instance-view.ts';
import { runTransition, type Held } from './transition.ts';
import { pollDelays } from './poll.ts';
import { blameDiskSource } from './disk-source.ts';
import { deleteInstanceDisk } from './teardown.ts';
import { waitUntilReady } from './wait-ready.ts';

/** Resume and reset: which instance, and whether and how long to wait until it is ready. */
export interface WaitingRequest {
  readonly name: string;
  readonly wait: boolean;
  readonly waitMs: number;
}

/** Reset makes the new disk from the configured size, type and source. */
export type ResetContext = InstanceContext & { readonly disk: CreateConfig['disk'] };

/** The Deployment of a held instance; a record whose Deployment was deleted by hand is the 404 of a missing instance. */
export function deploymentOf(held: Held): V1Deployment {
  if (held.deployment === undefined) throw new NotFoundError(`instance ${held.record.metadata.name} not found`);
  return held.deployment;
}

/** Scales an instance the caller may touch to 0, keeping its disk, name and slots. */
export async function suspendInstance(context: InstanceContext, request: { readonly name: string }): Promise<Instance> {
  return await runTransition(context, { name: request.name, kind: 'suspend' }, async (held) => {
    deploymentOf(held);
    const patched = await context.cluster.patchDeployment(request.name, scalePatch(0));
    return { result: await instanceView(context, patched) };
  });
}

/** Scales an instance back to its template's replicas and, if asked, waits until it is ready. */
export async function resumeInstance(context: InstanceContext, request: WaitingRequest): Promise<Instance> {
  return await runTransition(context, { name: request.name, kind: 'resume' }, async (held) => {
    const patched = await context.cluster.patchDeployment(request.name, scalePatch(replicasToRestore(deploymentOf(held))));
    context.progress?.('deployment');
    return { result: await answer(context, patched, request) };
  });
}

/**
 * Restarts an instance's pods and keeps its disk, unlike reset: a new
 * rollout of the same template (as `kubectl rollout restart` does), then,
 * if asked, the wait until it is ready.
 */
export async function restartInstance(context: InstanceContext, request: WaitingRequest): Promise<Instance> {
  return await runTransition(context, { name: request.name, kind: 'restart' }, async (held) => {
    deploymentOf(held);
    const patched = await context.cluster.patchDeployment(request.name, restartPatch(context.clock.now()));
    context.progress?.('deployment');
    return { result: await answer(context, patched, request) };
  });
}

/**
 * Wipes an instance's disk and keeps everything else: scales it to 0, waits
 * for its pods to go, deletes the disk once detached, makes a fresh one with
 * the same name and labels, then scales back. A reset that fails part way
 * leaves the instance suspended, never running without its disk; another
 * reset finishes the job.
 */
export async function resetInstance(context: ResetContext, request: WaitingRequest): Promise<Instance> {
  return await runTransition(context, { name: request.name, kind: 'reset' }, async (held) => {
    const deployment = deploymentOf(held);
    await context.cluster.patchDeployment(request.name, scalePatch(0));
    await waitUntilPodsGone(context, request.name);
    context.progress?.('stopped');
    await deleteInstanceDisk(context, request.name);
    const disk = resetDisk(deployment, { serverName: context.serverName, disk: context.disk });
    await context.disks.createDisk(disk).catch((error: unknown) => {
      throw blameDiskSource(error, disk.source);
    });
    context.report(`reset the disk of ${request.name}`);
    context.progress?.('disk', { pooled: false });
    const patched = await context.cluster.patchDeployment(request.name, scalePatch(replicasToRestore(deployment)));
    context.progress?.('deployment');
    return { result: await answer(context, patched, request) };
  });
}

async function answer(context: InstanceContext, deployment: V1Deployment, request: WaitingRequest): Promise<Instance> {
  if (!request.wait) return await instanceView(context, deployment);
  return await waitUntilReady(context, { name: request.name, timeoutMs: request.waitMs });
}

/** Polls until no pod of the instance is left, so that its disk can be let go. */
async function waitUntilPodsGone(context: InstanceContext, name: string): Promise<void> {
  const deadline = context.clock.now() + context.timeouts.deleteMs;
  const delays = pollDelays();
  while ((await context.cluster.listPods({ labelSelector: objectsSelector(context.serverName, [name]) })).items.length > 0) {
    if (context.clock.now() > deadline)
      throw new DeadlineExceededError(
        `the pods of ${name} were still running after ${Math.round(context.timeouts.deleteMs / 1000)} s; the instance is left suspended, reset it again`,
      );
    await context.clock.sleep(delays.next().value);
  }
}
