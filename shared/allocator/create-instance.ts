import type { V1Deployment } from '@kubernetes/client-node';
import type { CallerIdentity } from '../auth/identity.ts';
import { ConflictError, DeadlineExceededError } from '../errors.ts';
import { instanceFromDeployment, type Instance } from '../instances/instance.ts';
import { ANNOTATIONS, diskLabels, withInstanceMetadata } from '../instances/metadata.ts';
import { idempotencyKeyHash, idempotentInstanceName, mountNameOf, newInstanceName, ownerHashOf } from '../instances/naming.ts';
import type { ClusterClient } from '../kube/cluster.ts';
import { makeTemplateData } from '../template/template-data.ts';
import { defaultSleep, type AllocatorDeps } from './deps.ts';
import { expiryFor, resolveLifetimeSeconds } from './lifetime.ts';
import { pollDelays } from './poll.ts';
import { bindSlots, claimSlots } from './slots.ts';
import { deleteInstanceDisk, teardownInstance } from './teardown.ts';

export interface CreateOptions {
  /** Wait until the Deployment is available (default true). */
  readonly wait: boolean;
  /** Shorter wait than the configured one, in ms. */
  readonly waitTimeoutMs?: number;
  /** Reports what create is doing (for logs). */
  readonly onStep?: (step: string) => void;
  /** Told the instance's name as soon as it is chosen, so that failures can be logged with it. */
  readonly onName?: (name: string) => void;
  /** A client's key for this create: a retry with the same key gets the same instance, not a second one. */
  readonly idempotencyKey?: string;
  /** Seconds until the sweep destroys the instance; default from the configuration; 0 means never. */
  readonly lifetimeSeconds?: number;
}

/** How long an Idempotency-Key keeps answering with the instance it made. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

/**
 * Creates an instance: claims its limit slots, creates its disk, then its
 * Deployment, and (by default) waits for it to be available. Any failure,
 * a timed-out wait included, undoes what was done before it answers.
 */
export async function createInstance(deps: AllocatorDeps, caller: CallerIdentity, options: CreateOptions): Promise<Instance> {
  const { config } = deps;
  const sleep = deps.sleep ?? defaultSleep;
  const step = options.onStep ?? (() => undefined);
  const key = options.idempotencyKey;
  const keyHash = key === undefined ? undefined : idempotencyKeyHash(caller.email, key);
  const name = key === undefined ? newInstanceName(config.serverName, deps.randomSuffix) : idempotentInstanceName(config.serverName, caller.email, key);
  options.onName?.(name);
  const ownerHash = ownerHashOf(caller.email);
  const mountName = mountNameOf(config.mountRoot, name);
  const accessList = [...new Set([caller.email, ...config.admins])];
  const now = Date.now();
  const createdAt = new Date(now).toISOString();
  const expiresAt = expiryFor(resolveLifetimeSeconds(options.lifetimeSeconds, config.lifetime), now);

  // Render first: a template problem costs nothing to undo.
  const deployment = withInstanceMetadata(
    deps.template.render(
      makeTemplateData({
        name,
        ownerEmail: caller.email,
        admins: config.admins,
        mountName,
        ownerHash,
        version: config.version,
        creatorInfo: { email: caller.email, mountName, createdAt, allocator: config.serverName },
      }),
    ),
    { serverName: config.serverName, name, ownerEmail: caller.email, ownerHash, mountName, accessList, version: config.version, diskName: name, createdAt, ...(keyHash ? { idempotencyKeyHash: keyHash } : {}), ...(expiresAt ? { expiresAt } : {}) },
  );

  const cluster = await deps.cluster();
  const waitMs = Math.min(options.waitTimeoutMs ?? config.waitTimeoutMs, config.waitTimeoutMs);
  if (keyHash !== undefined) {
    const existing = await cluster.readDeployment(name);
    if (existing) {
      step('replaying an earlier create with the same Idempotency-Key');
      checkReplay(existing, keyHash);
      return instanceFromDeployment(options.wait && !isAvailable(existing) ? await waitUntilAvailable(cluster, name, waitMs, sleep) : existing);
    }
  }
  const undo: (() => Promise<unknown>)[] = [];
  try {
    step('claiming a slot');
    const slots = await claimSlots(cluster, { serverName: config.serverName, ownerHash, instance: name, limits: config.limits });
    // By name: a concurrent retry holds other slots labelled with the same instance.
    undo.push(() => Promise.all(slots.map((slot) => cluster.deleteLease(slot))));

    step('creating the disk');
    const disks = deps.disks();
    await disks.createDisk({ name, sizeGb: config.disk.sizeGb, type: config.disk.type, labels: diskLabels({ serverName: config.serverName, ownerHash, name }) });
    undo.push(() => deleteInstanceDisk(disks, { serverName: config.serverName, name, timeoutMs: config.diskReleaseTimeoutMs, sleep }));

    step('creating the Deployment');
    const created = await cluster.createDeployment(deployment);
    undo.length = 0; // from here on, one teardown removes all of it
    undo.push(() => teardownInstance({ cluster, disks, serverName: config.serverName, sleep }, name, { deploymentMs: config.waitTimeoutMs, diskReleaseMs: config.diskReleaseTimeoutMs }));
    await bindSlots(cluster, slots, created);

    let latest = created;
    if (options.wait) {
      step('waiting for the instance to be available');
      latest = await waitUntilAvailable(cluster, name, waitMs, sleep);
    }
    return instanceFromDeployment(latest);
  } catch (error) {
    step('undoing a failed create');
    for (const action of undo.reverse()) {
      try {
        await action();
      } catch (undoError) {
        // The sweep removes what is left; the caller needs the original error.
        step(`could not undo part of the create: ${(undoError as Error).message}`);
      }
    }
    if (keyHash !== undefined && error instanceof ConflictError) {
      throw new ConflictError('a create with this Idempotency-Key is still in progress; retry it shortly', { cause: error });
    }
    throw error;
  }
}

/** An existing instance answers a retried create only if that create made it, recently. */
function checkReplay(existing: V1Deployment, keyHash: string): void {
  const annotations = existing.metadata?.annotations ?? {};
  if (annotations[ANNOTATIONS.idempotencyKey] !== keyHash) throw new ConflictError('this Idempotency-Key was already used for another instance; use a new key');
  const createdAt = Date.parse(annotations[ANNOTATIONS.createdAt] ?? '');
  if (!(Date.now() - createdAt < IDEMPOTENCY_WINDOW_MS)) throw new ConflictError('this Idempotency-Key has expired; use a new key');
}

/** Whether every wanted replica of the current generation is available. */
export function isAvailable(deployment: V1Deployment): boolean {
  const wanted = deployment.spec?.replicas ?? 1;
  const status = deployment.status;
  return (status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 1) && (status?.availableReplicas ?? 0) >= wanted && (status?.updatedReplicas ?? 0) >= wanted;
}

async function waitUntilAvailable(cluster: ClusterClient, name: string, timeoutMs: number, sleep: (ms: number) => Promise<void>): Promise<V1Deployment> {
  const deadline = Date.now() + timeoutMs;
  const delays = pollDelays();
  for (;;) {
    const current = await cluster.readDeployment(name);
    if (current && isAvailable(current)) return current;
    const delay = delays.next().value;
    if (Date.now() + delay > deadline) throw new DeadlineExceededError(`instance ${name} was not available within ${Math.round(timeoutMs / 1000)} s, so it was removed`);
    await sleep(delay);
  }
}
