import type { CoreV1Event, V1Deployment, V1Lease, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../../shared/errors.ts';
import type { ClusterClient, Page } from '../../../shared/kube/cluster.ts';
import { initialPhase, type InstanceRecord } from '../../../shared/model/record.ts';
import type { FakeClock } from './fake-clock.ts';
import { Faults, matchesSelector, pageOf } from './faults.ts';

/**
 * An in-memory ClusterClient: names are unique, creates of a taken name are
 * 409s, so are writes whose uid precondition names a replaced object (as the
 * client reports the API server's refusals), a deleted Deployment takes the Leases it owns with it (the garbage
 * collector's part), and a Deployment is available `readyAfterReads` reads
 * after it is made.
 */
export class FakeCluster implements ClusterClient {
  readonly namespace = 'test';
  readonly deployments = new Map<string, V1Deployment>();
  readonly leases = new Map<string, V1Lease>();
  /** Instance records, as the API server keeps them: a resourceVersion each, spec and status written apart. */
  readonly records = new Map<string, InstanceRecord>();
  #resourceVersion = 0;
  /** Pods, ReplicaSets and events as a test sets them up: the fake runs no controllers. */
  pods: V1Pod[] = [];
  replicaSets: V1ReplicaSet[] = [];
  events: CoreV1Event[] = [];
  readonly faults = new Faults();
  readyAfterReads = 0;
  readonly #reads = new Map<string, number>();
  readonly #clock: FakeClock;
  #uid = 0;

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  #metadata<T extends { metadata?: { name?: string } }>(object: T): T {
    const copy = structuredClone(object);
    copy.metadata = { ...copy.metadata, uid: `uid-${(this.#uid += 1)}`, creationTimestamp: new Date(this.#clock.now()) } as T['metadata'];
    return copy;
  }

  createDeployment(deployment: V1Deployment) {
    return this.faults.run('createDeployment', () => {
      const name = deployment.metadata?.name ?? '';
      if (this.deployments.has(name)) throw new AlreadyExistsError(`deployments "${name}" already exists`);
      const stored = this.#metadata(deployment);
      stored.metadata!.generation = 1;
      this.deployments.set(name, stored);
      this.#reads.set(name, 0);
      return structuredClone(stored);
    });
  }

  readDeployment(name: string) {
    return this.faults.run('readDeployment', () => this.#read(name));
  }

  /** Reads again every 50 ms of the fake clock: each look counts as a read towards `readyAfterReads`. */
  async watchDeployment(name: string, _seen: V1Deployment | undefined, maxMs: number, done: (state: V1Deployment | undefined) => boolean) {
    return await this.faults.run('watchDeployment', async () => {
      const deadline = this.#clock.now() + maxMs;
      for (;;) {
        await this.#clock.sleep(Math.min(50, Math.max(0, deadline - this.#clock.now())));
        const state = this.#read(name);
        if (done(state) || this.#clock.now() >= deadline) return state;
      }
    });
  }

  #read(name: string): V1Deployment | undefined {
    const found = this.deployments.get(name);
    if (!found) return undefined;
    const reads = (this.#reads.get(name) ?? 0) + 1;
    this.#reads.set(name, reads);
    const replicas = found.spec?.replicas ?? 1;
    if (reads > this.readyAfterReads)
      found.status = {
        observedGeneration: found.metadata?.generation ?? 1,
        replicas,
        availableReplicas: replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
      };
    return structuredClone(found);
  }

  listDeployments(options: { labelSelector: string; limit?: number; continueToken?: string }) {
    return this.faults.run('listDeployments', () => this.#page([...this.deployments.values()], options));
  }

  /** A JSON merge patch (RFC 7386), as the API server applies it: objects merge, null removes, anything else replaces. */
  patchDeployment(name: string, patch: object) {
    return this.faults.run('patchDeployment', () => {
      const found = this.deployments.get(name);
      if (!found) throw new NotFoundError(`deployments "${name}" not found`);
      const before = JSON.stringify(found.spec);
      const patched = mergePatch(found, patch) as V1Deployment;
      if (JSON.stringify(patched.spec) !== before) {
        patched.metadata!.generation = (found.metadata!.generation ?? 1) + 1;
        this.#reads.set(name, 0);
      }
      this.deployments.set(name, patched);
      return structuredClone(patched);
    });
  }

  deleteDeployment(name: string, preconditions?: { uid: string }) {
    return this.faults.run('deleteDeployment', () => {
      const found = this.deployments.get(name);
      if (!found && preconditions) throw new NotFoundError(`deployments "${name}" not found`);
      if (!found) return undefined;
      if (preconditions && found.metadata?.uid !== preconditions.uid)
        throw new ConflictError(`Precondition failed: UID in precondition: ${preconditions.uid}`);
      this.deployments.delete(name);
      for (const [leaseName, lease] of this.leases) {
        if (lease.metadata?.ownerReferences?.some((owner) => owner.uid === found.metadata?.uid)) this.leases.delete(leaseName);
      }
      return undefined; // gone at once: nothing here waits on pods
    });
  }

  createLease(lease: V1Lease) {
    return this.faults.run('createLease', () => {
      const name = lease.metadata?.name ?? '';
      if (this.leases.has(name)) throw new AlreadyExistsError(`leases "${name}" already exists`);
      const stored = this.#metadata(lease);
      this.leases.set(name, stored);
      return structuredClone(stored);
    });
  }

  readLease(name: string) {
    return this.faults.run('readLease', () => structuredClone(this.leases.get(name)));
  }

  listLeases(options: { labelSelector: string; limit?: number; continueToken?: string }) {
    return this.faults.run('listLeases', () => this.#page([...this.leases.values()], options));
  }

  patchLease(name: string, patch: object, preconditions?: { uid: string }) {
    return this.faults.run('patchLease', () => {
      const found = this.leases.get(name);
      if (!found) throw new NotFoundError(`leases "${name}" not found`);
      if (preconditions && found.metadata?.uid !== preconditions.uid)
        throw new ConflictError(`leases "${name}" was replaced: uid is not ${preconditions.uid}`);
      const patched = mergePatch(found, patch) as V1Lease;
      this.leases.set(name, patched);
      return structuredClone(patched);
    });
  }

  deleteLease(name: string, preconditions?: { uid: string }) {
    return this.faults.run('deleteLease', () => {
      const found = this.leases.get(name);
      if (!found) return false;
      if (preconditions && found.metadata?.uid !== preconditions.uid)
        throw new ConflictError(`Precondition failed: UID in precondition: ${preconditions.uid}`);
      this.leases.delete(name);
      return true;
    });
  }

  createRecord(record: InstanceRecord) {
    return this.faults.run('createRecord', () => {
      const name = record.metadata.name;
      if (this.records.has(name)) throw new AlreadyExistsError(`instances.allocator.dev "${name}" already exists`);
      // The status is a subresource: a create drops it, as the API server does.
      const stored: InstanceRecord = {
        ...structuredClone(record),
        metadata: {
          ...record.metadata,
          uid: `uid-${(this.#uid += 1)}`,
          resourceVersion: this.#nextVersion(),
          creationTimestamp: new Date(this.#clock.now()).toISOString(),
        },
        status: { phase: initialPhase(record.spec) },
      };
      this.records.set(name, stored);
      return structuredClone(stored);
    });
  }

  readRecord(name: string) {
    return this.faults.run('readRecord', () => structuredClone(this.records.get(name)));
  }

  listRecords(options: { labelSelector: string; limit?: number; continueToken?: string }) {
    return this.faults.run('listRecords', () => this.#page([...this.records.values()], options));
  }

  replaceRecord(record: InstanceRecord, part: 'spec' | 'status') {
    return this.faults.run('replaceRecord', () => {
      const name = record.metadata.name;
      const found = this.records.get(name);
      if (!found) throw new NotFoundError(`instances.allocator.dev "${name}" not found`);
      if (record.metadata.resourceVersion !== found.metadata.resourceVersion)
        throw new ConflictError(`Operation cannot be fulfilled on instances.allocator.dev "${name}": the object has been modified`);
      const stored: InstanceRecord =
        part === 'status'
          ? { ...found, status: structuredClone(record.status) }
          : { ...structuredClone(record), metadata: { ...found.metadata, labels: { ...record.metadata.labels } }, status: found.status };
      const versioned = { ...stored, metadata: { ...stored.metadata, resourceVersion: this.#nextVersion() } };
      this.records.set(name, versioned);
      return structuredClone(versioned);
    });
  }

  deleteRecord(name: string, preconditions?: { uid: string; resourceVersion?: string }) {
    return this.faults.run('deleteRecord', () => {
      const found = this.records.get(name);
      if (!found) return false;
      if (preconditions && found.metadata.uid !== preconditions.uid)
        throw new ConflictError(`Precondition failed: UID in precondition: ${preconditions.uid}`);
      if (preconditions?.resourceVersion !== undefined && found.metadata.resourceVersion !== preconditions.resourceVersion)
        throw new ConflictError(`Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}`);
      this.records.delete(name);
      return true;
    });
  }

  #nextVersion(): string {
    return String((this.#resourceVersion += 1));
  }

  listPods(options: { labelSelector: string }) {
    return this.faults.run('listPods', () => this.#page(this.pods, options));
  }

  /** No pod changes here (the fake's pods are set by hand): the watch only ends when aborted. */
  async watchPods(options: { labelSelector: string; signal: AbortSignal }): Promise<void> {
    await this.faults.run('watchPods', () => undefined);
    await new Promise<void>((resolve) => {
      if (options.signal.aborted) return resolve();
      options.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  listReplicaSets(options: { labelSelector: string }) {
    return this.faults.run('listReplicaSets', () => this.#page(this.replicaSets, options));
  }

  listEvents(options: { fieldSelector: string }) {
    return this.faults.run('listEvents', () => {
      const wanted = Object.fromEntries(options.fieldSelector.split(',').map((term) => term.split('=') as [string, string]));
      const items = this.events.filter(
        (event) =>
          (!wanted.type || event.type === wanted.type) &&
          (!wanted['involvedObject.kind'] || event.involvedObject.kind === wanted['involvedObject.kind']) &&
          (!wanted['involvedObject.uid'] || event.involvedObject.uid === wanted['involvedObject.uid']),
      );
      return { items: structuredClone(items) };
    });
  }

  #page<T extends V1Deployment | V1Lease | V1Pod | V1ReplicaSet | InstanceRecord>(
    all: readonly T[],
    options: { labelSelector: string; limit?: number; continueToken?: string },
  ): Page<T> {
    const matching = all
      .filter((item) => matchesSelector(item.metadata?.labels, options.labelSelector))
      .map((item) => structuredClone(item));
    const page = pageOf(matching, {
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      ...(options.continueToken === undefined ? {} : { token: options.continueToken }),
    });
    return { items: page.items, ...(page.next ? { continueToken: page.next } : {}) };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

/** RFC 7386's MergePatch(target, patch). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}
