import type { V1Lease } from '@kubernetes/client-node';
import type { CallerIdentity } from '../../../shared/auth/identity.ts';
import type { FullContext } from '../../../shared/handlers/execution-context.ts';
import type { AccessContext } from '../../../shared/executors/share.ts';
import type { CreateConfig } from '../../../shared/plans/create-plan.ts';
import { makeBackground } from '../../../shared/runtime/background.ts';
import { FakeClock } from '../fakes/fake-clock.ts';
import { FakeCluster, mergePatch } from '../fakes/fake-cluster.ts';
import { FakeInstanceObjects } from '../fakes/fake-instance-objects.ts';
import { FakeDisks } from '../fakes/fake-disks.ts';
import { Faults, type Fault } from '../fakes/faults.ts';
import { config, countingRandom, GRACE_MS, template } from '../fakes/world.ts';

/**
 * Faults that a history can clear between its commands (an injected fault
 * that no call reached must not fire in the next command), and that can hand
 * every adapter call to a scheduler first, so that fc.scheduler decides the
 * order in which two operations' calls run.
 */
export class ModelFaults extends Faults {
  readonly #pending: (Fault & { remaining: number })[] = [];
  /** Awaited before each call: fc.scheduler's hook; none in a plain history. */
  beforeCall: ((method: string) => Promise<void>) | undefined;

  override inject(fault: Fault): void {
    this.#pending.push({ ...fault, remaining: fault.nth ?? 1 });
  }

  /** Forgets the faults no call reached. */
  clear(): void {
    this.#pending.length = 0;
  }

  override async run<T>(method: string, work: () => T): Promise<T> {
    this.calls.push(method);
    if (this.beforeCall) await this.beforeCall(method);
    const due = this.#pending.find((fault) => fault.method === method && (fault.remaining -= 1) === 0);
    if (due) this.#pending.splice(this.#pending.indexOf(due), 1);
    await Promise.resolve();
    if (due?.when === 'before') throw due.error();
    const result = work();
    if (due?.when === 'after') throw due.error();
    return result;
  }
}

/**
 * The fake cluster with clearable faults, merge patches of a Lease's spec
 * (a pooled create's key record moved to another name: FakeCluster applies only
 * ownerReferences), and the garbage collector's part for Leases owned by a
 * Lease (a restore's lock, owned by its record), as the API server does.
 */
export class ModelCluster extends FakeCluster {
  override readonly faults = new ModelFaults();

  override async patchLease(name: string, patch: object, preconditions?: { uid: string }): Promise<V1Lease> {
    const patched = await super.patchLease(name, patch, preconditions);
    const spec = (patch as { spec?: object }).spec;
    if (spec === undefined) return patched;
    const stored = this.leases.get(name);
    if (stored) stored.spec = mergePatch(stored.spec, spec) as V1Lease['spec'];
    return structuredClone(stored ?? patched);
  }

  override async deleteLease(name: string, preconditions?: { uid: string }): Promise<boolean> {
    const uid = this.leases.get(name)?.metadata?.uid;
    const deleted = await super.deleteLease(name, preconditions);
    if (deleted && uid !== undefined) {
      for (const [other, lease] of this.leases) if (lease.metadata?.ownerReferences?.some((o) => o.uid === uid)) this.leases.delete(other);
    }
    return deleted;
  }
}

export class ModelDisks extends FakeDisks {
  override readonly faults = new ModelFaults();
}

/** The people of a history: four users, each with their own account id, and an admin. */
export const USERS = ['ada@example.com', 'bea@example.com', 'cy@example.com', 'dan@example.com'] as const;
export const ADMIN = 'root@example.com';
export type Who = (typeof USERS)[number] | typeof ADMIN;
export const EVERYONE: readonly Who[] = [...USERS, ADMIN];

export function identityOf(email: Who): CallerIdentity {
  return { email, subject: email === ADMIN ? '99' : String(11 + USERS.indexOf(email as (typeof USERS)[number])), kind: 'user' };
}

/** What differs between histories: the restore window and the disk pool. */
export interface Settings {
  readonly restoreWindowMs: number;
  readonly poolSize: number;
}

/** Tight limits, so that histories reach them. */
export const LIMITS = { perUser: 2, global: 5 } as const;
export const MODEL_CONFIG: CreateConfig = { ...config, limits: LIMITS, admins: [ADMIN] };
export const LOCK_MS = 60_000;

export type ModelContext = FullContext & AccessContext;

export interface ModelWorld {
  readonly settings: Settings;
  readonly clock: FakeClock;
  readonly cluster: ModelCluster;
  readonly disks: ModelDisks;
  readonly events: string[];
  /** Each command's operation and outcome (`create:ok`, `destroy:404`), for a survey of what histories reach. */
  readonly outcomes: string[];
  readonly random: (bytes: number) => Buffer;
  readonly background: ReturnType<typeof makeBackground>;
  /** The context of one request by `who`; `signal` for a create whose caller may hang up. */
  as(who: Who, signal?: AbortSignal): ModelContext & { signal?: AbortSignal };
  clearFaults(): void;
}

export function modelWorld(settings: Settings): ModelWorld {
  const clock = new FakeClock();
  const cluster = new ModelCluster(clock);
  const disks = new ModelDisks(clock);
  const objects = new FakeInstanceObjects();
  const events: string[] = [];
  const background = makeBackground();
  const random = countingRandom();
  const contextRandom = countingRandom();
  return {
    settings,
    clock,
    cluster,
    disks,
    events,
    outcomes: [],
    random,
    background,
    as: (who, signal) => ({
      serverName: MODEL_CONFIG.serverName,
      cluster,
      objects,
      disks,
      clock,
      random: contextRandom,
      timeouts: { deleteMs: 30_000, diskReleaseMs: 30_000 },
      report: (event) => void events.push(event),
      caller: identityOf(who),
      policy: { ...MODEL_CONFIG, workspaceDomains: [] },
      lockMs: LOCK_MS,
      graceMs: GRACE_MS,
      sweep: { graceMs: GRACE_MS, maxDestroys: 10 },
      disk: MODEL_CONFIG.disk,
      diskPool: { size: settings.poolSize },
      background,
      lifetime: MODEL_CONFIG.lifetime,
      restoreWindowMs: settings.restoreWindowMs,
      keptPerUser: LIMITS.perUser,
      template,
      access: { ...MODEL_CONFIG, allowedCallers: [], maxCollaborators: 3 },
      ...(signal ? { signal } : {}),
    }),
    clearFaults: () => {
      cluster.faults.clear();
      disks.faults.clear();
    },
  };
}
