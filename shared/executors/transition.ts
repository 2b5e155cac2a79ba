import type { V1Deployment } from '@kubernetes/client-node';
import { namesAccount } from '../auth/allowed-callers.ts';
import { isAdminAccount, needsBoundToken } from '../auth/policy.ts';
import {
  AbortedError,
  AlreadyExistsError,
  ConflictError,
  FailedPreconditionError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
} from '../errors.ts';
import { phaseOfDeployment } from '../instances/instance.ts';
import { LABELS } from '../instances/metadata.ts';
import { ownerHashOf } from '../instances/naming.ts';
import { pinnedOwnerPatch } from '../plans/access-plan.ts';
import {
  followingDeployment,
  ownerBeforeDeployment,
  recordFromDeployment,
  type InstanceRecord,
  type InstanceSpec,
  type InstanceStatus,
} from '../model/record.ts';
import {
  endPhase,
  failurePhase,
  holdingPhase,
  phaseRefusalMessage,
  refusalOf,
  TRANSITIONS,
  type OperationKind,
  type Phase,
  type Role,
  type Standing,
} from '../model/transitions.ts';
import type { CallerContext, ClusterContext, ExecutionContext } from './context.ts';

/** What a transition acts with: the adapters, how long it may hold an instance, and who calls (none for the sweep, which says its standing). */
export type TransitionContext = ExecutionContext & { readonly lockMs: number } & Partial<Pick<CallerContext, 'caller' | 'policy'>>;

function standingIn(context: TransitionContext, record: InstanceRecord, given: Standing | undefined): Standing | undefined {
  if (given) return given;
  const { caller, policy } = context;
  return caller && policy ? standingOf({ ...context, caller, policy }, record) : undefined;
}

/** How often a conditional write that lost a race is tried again, reading first. */
const CONFLICT_RETRIES = 5;

/** The caller's standing on an instance, from its record: owner first, then admin, then collaborator; undefined: a stranger. */
export function standingOf(context: CallerContext, record: InstanceRecord): Standing | undefined {
  const { caller, policy } = context;
  const boundToken = caller.sharedAudience !== true;
  const { owner } = record.spec;
  const role: Role | undefined =
    owner.email === caller.email && (owner.subject === undefined || owner.subject === caller.subject)
      ? 'owner'
      : isAdminAccount(policy, caller)
        ? 'admin'
        : record.spec.collaborators.some((email) => namesAccount(email, caller, policy.workspaceDomains))
          ? 'collaborator'
          : undefined;
  return role === undefined ? undefined : { role, boundToken };
}

/** An instance as an operation finds it: its record (written from its Deployment on first touch) and its Deployment. */
export interface Found {
  readonly record: InstanceRecord;
  readonly deployment: V1Deployment | undefined;
}

/**
 * The record and Deployment of `name` on this allocator. An instance made
 * before records existed gets its record now, from its Deployment.
 */
export async function loadInstance(context: ClusterContext, name: string): Promise<Found | undefined> {
  const { cluster, serverName } = context;
  const [record, deployment] = await Promise.all([cluster.readRecord(name), cluster.readDeployment(name)]);
  const ours = deployment?.metadata?.labels?.[LABELS.allocator] === serverName ? deployment : undefined;
  if (record)
    return record.metadata.labels[LABELS.allocator] === serverName ? { record: seenGoing(record, ours), deployment: ours } : undefined;
  if (!ours) return undefined;
  return { record: await adopt(context, ours), deployment: ours };
}

/** A Deployment being deleted (by hand, or by a destroy of an older release) says the instance is going, whatever its record says. */
function seenGoing(record: InstanceRecord, deployment: V1Deployment | undefined): InstanceRecord {
  if (!deployment?.metadata?.deletionTimestamp || record.status.phase === 'destroying') return record;
  return { ...record, status: { ...record.status, phase: 'destroying' } };
}

/** Writes the record of an instance that has none yet; another writer's record made meanwhile is read instead. */
async function adopt(context: ClusterContext, deployment: V1Deployment): Promise<InstanceRecord> {
  const wanted = recordFromDeployment(deployment, context.serverName);
  try {
    const created = await context.cluster.createRecord(wanted);
    return await context.cluster.replaceRecord({ ...created, status: wanted.status }, 'status');
  } catch (error) {
    if (!(error instanceof AlreadyExistsError || error instanceof ConflictError)) throw error;
    const current = await context.cluster.readRecord(wanted.metadata.name);
    if (!current) throw error;
    return current;
  }
}

/** Throws why the caller may not run `kind` on the instance now: the 404 of a stranger, the 403s, or the phase's 409 or 400. */
export function checkMayStart(
  context: { readonly clock: { now(): number } },
  kind: OperationKind,
  found: Found,
  standing: Standing | undefined,
): void {
  const { record } = found;
  const name = record.metadata.name;
  if (standing === undefined) throw new NotFoundError(`instance ${name} not found`);
  const phase = effectivePhase(record, context.clock.now(), found.deployment);
  // A destroyed instance is its owner's to restore: collaborators see it no more than strangers do.
  if (standing.role === 'collaborator' && (phase === 'destroyed' || phase === 'gone'))
    throw new NotFoundError(`instance ${name} not found`);
  const refusal = refusalOf(kind, phase, standing);
  if (refusal?.reason === 'role')
    throw new PermissionDeniedError(`instance ${name} is shared with you; only its owner or an admin may do that`);
  if (refusal?.reason === 'token')
    throw needsBoundToken(standing.role === 'admin' ? "act on other people's instances" : `${kind} an instance`);
  const held = record.status.operation;
  if (held && Date.parse(held.deadline) >= context.clock.now())
    throw new AbortedError(`a ${held.kind} of ${name} is in progress; retry when it is done`, { retryAfterSeconds: 5 });
  if (refusal?.reason !== 'phase') return;
  if (phase === 'destroyed' || phase === 'gone') throw new NotFoundError(`instance ${name} not found`);
  if (phase === 'destroying')
    throw new AbortedError(`instance ${name} is being destroyed; it cannot be ${TRANSITIONS[kind].verb}`, { retryAfterSeconds: 5 });
  throw new FailedPreconditionError(phaseRefusalMessage(name, kind, phase));
}

/**
 * The phase a record is in, counting an operation past its deadline as over:
 * its holder died. It rolls forward to what the instance's Deployment shows,
 * where there is one (the steps that mattered happened), or back to where its
 * failure would leave the instance.
 */
export function effectivePhase(record: InstanceRecord, nowMs: number, deployment: V1Deployment | undefined): Phase {
  const held = record.status.operation;
  if (held === undefined || Date.parse(held.deadline) >= nowMs) return record.status.phase;
  return endedPhase(held.kind, held.from, deployment);
}

/**
 * Where an operation that did not finish leaves the instance: what its
 * Deployment shows, where there is one (its steps that mattered happened,
 * or none did), else where its failure leaves it.
 */
function endedPhase(kind: OperationKind, from: Phase, deployment: V1Deployment | undefined): Phase {
  return deployment ? phaseOfDeployment(deployment) : failurePhase(kind, from);
}

/** What an operation's work hands back: its answer, and what it changed of the record. */
export interface Outcome<T> {
  readonly result: T;
  /** Where it ended, if it may end in more than one phase (destroy: `gone` or `destroyed`). */
  readonly to?: Phase;
  readonly spec?: (spec: InstanceSpec) => InstanceSpec;
  readonly status?: Partial<Omit<InstanceStatus, 'phase' | 'operation'>>;
}

/** The instance while an operation holds it. */
export interface Held extends Found {
  /** The phase it started from. */
  readonly from: Phase;
}

/**
 * Runs one operation on an instance as a transition of its record: checks
 * who may run it from which phase (the table), enters its holding phase with
 * a holder and a deadline (the lock: a second operation gets a 409 naming it),
 * runs `work`, and ends in its end phase, or its failure phase if `work`
 * throws. Every write is conditional on the record's resourceVersion, read
 * again and retried when another writer got there first.
 */
/** The standing of the allocator itself: the sweep's, which acts on every instance as an admin would. */
export const ALLOCATOR_ITSELF: Standing = { role: 'admin', boundToken: true };

export async function runTransition<T>(
  context: TransitionContext,
  request: {
    readonly name: string;
    readonly kind: OperationKind;
    readonly standing?: Standing;
    /** An answer from the instance as read, once the caller may run `kind`, when there is nothing to do: then nothing is held or written. */
    readonly asIs?: (found: Held) => { readonly result: T } | undefined;
  },
  work: (held: Held) => Promise<Outcome<T>>,
): Promise<T> {
  const { name, kind } = request;
  const holder = `${kind}/${context.clock.now().toString(36)}${context.random(4).toString('hex')}`;
  const entry = await enter(context, { ...request, holder });
  if ('asIs' in entry) return entry.asIs.result;
  const entered = entry.held;
  let outcome: Outcome<T>;
  try {
    outcome = await work(entered);
  } catch (error) {
    const deployment = await context.cluster.readDeployment(name).then(
      (read) => ({ read }),
      () => undefined,
    );
    const phase = deployment ? endedPhase(kind, entered.from, deployment.read) : failurePhase(kind, entered.from);
    // Who may reach it is what its Deployment says, whatever step failed: the record follows a share or transfer that landed.
    const seen = deployment?.read;
    const spec = seen ? (current: InstanceSpec) => followingDeployment(current, seen) : undefined;
    const before = seen ? ownerBeforeDeployment(entered.record.spec, seen) : undefined;
    const ended = (status: InstanceStatus): InstanceStatus => ({ ...status, phase, ...(before ? { previousOwner: before } : {}) });
    await leave(context, entered.record, holder, ended, spec).catch((cause: unknown) =>
      context.report(`could not leave ${kind} of ${name} after its failure: ${(cause as Error).message}`),
    );
    throw error;
  }
  const phase = endPhase(kind, entered.from, outcome.to);
  if (phase === 'gone') {
    await context.cluster
      .deleteRecord(name, entered.record.metadata.uid ? { uid: entered.record.metadata.uid } : undefined)
      .catch((error: unknown) => {
        // The steps happened: a record left behind ends its hold at the deadline, and the sweep removes it.
        if (!(error instanceof ConflictError))
          context.report(`${kind} of ${name} is done, but its record could not be deleted: ${(error as Error).message}`);
      });
    return outcome.result;
  }
  await leave(context, entered.record, holder, (status) => ({ ...status, ...outcome.status, phase }), outcome.spec).catch(
    (error: unknown) => {
      if (error instanceof AbortedError) throw error; // taken over: another operation holds it now
      // The steps happened: the record catches up once its deadline passes, rolled forward to what the Deployment shows.
      context.report(`${kind} of ${name} is done, but its record could not be written: ${(error as Error).message}`);
    },
  );
  return outcome.result;
}

/** Reads the record and enters `kind`'s holding phase on it, re-reading after a lost race; or answers as it is, with nothing to do. */
async function enter<T>(
  context: TransitionContext,
  input: {
    readonly name: string;
    readonly kind: OperationKind;
    readonly holder: string;
    readonly standing?: Standing;
    readonly asIs?: (found: Held) => { readonly result: T } | undefined;
  },
): Promise<{ readonly held: Held } | { readonly asIs: { readonly result: T } }> {
  let first: string | undefined;
  for (let attempt = 1; ; attempt += 1) {
    const found = await loadInstance(context, input.name);
    // Read again after a lost race, it must be the instance first read: one made since under its name is another.
    if (!found || (first !== undefined && found.record.metadata.uid !== first)) throw new NotFoundError(`instance ${input.name} not found`);
    first = found.record.metadata.uid;
    const standing = standingIn(context, found.record, input.standing);
    checkMayStart(context, input.kind, found, standing);
    const now = context.clock.now();
    const from = effectivePhase(found.record, now, found.deployment);
    const asIs = input.asIs?.({ ...found, from });
    if (asIs) return { asIs };
    const stale = found.record.status.operation;
    if (stale && Date.parse(stale.deadline) < now) context.report(`taking over ${input.name} from an interrupted ${stale.kind}`);
    const status: InstanceStatus = {
      ...withoutOperation(found.record.status),
      phase: holdingPhase(input.kind, from),
      operation: { kind: input.kind, holder: input.holder, deadline: new Date(now + context.lockMs).toISOString(), from },
    };
    try {
      const subject = unpinnedOwner(context, found.record, standing);
      const pinned = subject ? await writePin(context, found, subject) : found.record;
      const record = await context.cluster.replaceRecord({ ...pinned, status }, 'status');
      return { held: { record, deployment: found.deployment, from } };
    } catch (error) {
      if (error instanceof NotFoundError) throw new NotFoundError(`instance ${input.name} not found`, { cause: error });
      if (!(error instanceof ConflictError) || attempt >= CONFLICT_RETRIES) throw error;
    }
  }
}

/**
 * An instance given by transfer knows only its new owner's email: their
 * account id is pinned at their first call on it, after which another
 * account with that email owns nothing. Answers the id to pin, if any.
 */
function unpinnedOwner(
  context: TransitionContext | CallerContext,
  record: InstanceRecord,
  standing: Standing | undefined,
): string | undefined {
  return standing?.role === 'owner' && record.spec.owner.subject === undefined ? context.caller?.subject : undefined;
}

/** Pins the owner's account id on the record (conditional) and on the Deployment, which list reads it from. */
async function writePin(context: ClusterContext, found: Found, subject: string): Promise<InstanceRecord> {
  const record = await context.cluster.replaceRecord(
    { ...found.record, spec: { ...found.record.spec, owner: { ...found.record.spec.owner, subject } } },
    'spec',
  );
  if (found.deployment) await context.cluster.patchDeployment(found.record.metadata.name, pinnedOwnerPatch(subject));
  return record;
}

function withoutOperation(status: InstanceStatus): InstanceStatus {
  const { operation: _operation, ...rest } = status;
  return rest;
}

/**
 * Ends the hold of `holder`: writes the spec change, if any, then the status
 * without the operation. A record changed meanwhile is read again; one that
 * another operation has taken over is left to it.
 */
async function leave(
  context: TransitionContext,
  held: InstanceRecord,
  holder: string,
  status: (current: InstanceStatus) => InstanceStatus,
  spec?: (spec: InstanceSpec) => InstanceSpec,
): Promise<void> {
  let record = held;
  let specToWrite = spec;
  for (let attempt = 1; ; attempt += 1) {
    // Read again after a write whose answer was lost: no hold left means that write was ours, and it landed.
    if (attempt > 1 && record.status.operation === undefined && specToWrite === undefined) return;
    if (record.status.operation?.holder !== holder) {
      throw new AbortedError(`${record.metadata.name} was taken over by another operation while this one ran; check it and retry`, {
        retryAfterSeconds: 5,
      });
    }
    try {
      if (specToWrite) {
        const next = specToWrite(record.spec);
        const labels = { ...record.metadata.labels, [LABELS.ownerHash]: ownerHashOf(next.owner.email) };
        record = await context.cluster.replaceRecord({ ...record, metadata: { ...record.metadata, labels }, spec: next }, 'spec');
        specToWrite = undefined; // written: a lost status write that follows does not write it twice
      }
      await context.cluster.replaceRecord({ ...record, status: status(withoutOperation(record.status)) }, 'status');
      return;
    } catch (error) {
      // The steps are done: a lost race reads again, and a passing outage is tried again, to record them.
      const passing = error instanceof UnavailableError;
      if (!(error instanceof ConflictError || passing) || attempt >= CONFLICT_RETRIES) throw error;
      if (passing) await context.clock.sleep(attempt * 200);
      const current = await context.cluster.readRecord(held.metadata.name);
      if (!current) throw new NotFoundError(`instance ${held.metadata.name} not found`);
      record = current;
    }
  }
}

/**
 * A change of the record's spec alone, conditional and retried: extend. It
 * holds nothing, since it is one write.
 */
export async function updateSpec(
  context: CallerContext,
  request: { readonly name: string; readonly kind: OperationKind },
  change: (spec: InstanceSpec) => InstanceSpec,
): Promise<Found> {
  for (let attempt = 1; ; attempt += 1) {
    const found = await loadInstance(context, request.name);
    if (!found) throw new NotFoundError(`instance ${request.name} not found`);
    const standing = standingOf(context, found.record);
    checkMayStart(context, request.kind, found, standing);
    if (!found.deployment) throw new NotFoundError(`instance ${request.name} not found`);
    try {
      const subject = unpinnedOwner(context, found.record, standing);
      const pinned = subject ? await writePin(context, found, subject) : found.record;
      const record = await context.cluster.replaceRecord({ ...pinned, spec: change(pinned.spec) }, 'spec');
      return { record, deployment: found.deployment };
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= CONFLICT_RETRIES) throw error;
    }
  }
}
