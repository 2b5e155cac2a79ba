import { AllocatorError, ConflictError, UnavailableError } from '../../../shared/errors.ts';
import { executeCreate, NameTakenError } from '../../../shared/executors/create.ts';
import { destroyInstance } from '../../../shared/executors/destroy.ts';
import { extendInstance } from '../../../shared/executors/extend.ts';
import { resetInstance, restartInstance, resumeInstance, suspendInstance } from '../../../shared/executors/lifecycle.ts';
import { restoreInstance } from '../../../shared/executors/restore.ts';
import { runSweep } from '../../../shared/executors/run-sweep.ts';
import { shareInstance, unshareInstance } from '../../../shared/executors/share.ts';
import { transferInstance } from '../../../shared/executors/transfer.ts';
import { describeErrorChain } from '../../../shared/http/request-log.ts';
import { ANNOTATIONS, LABELS } from '../../../shared/instances/metadata.ts';
import { ownerHashOf } from '../../../shared/instances/naming.ts';
import { isLive, lineOf } from '../../../shared/plans/queue.ts';
import { SLOT_LABEL } from '../../../shared/plans/slots.ts';
import { planCreate } from '../../../shared/plans/create-plan.ts';
import { planRestore, type RestorePlan } from '../../../shared/plans/restore.ts';
import type { InstanceRecord } from '../../../shared/model/record.ts';
import { template } from '../fakes/world.ts';
import type { Fault } from '../fakes/faults.ts';
import { InvariantError, tolerated } from './invariants.ts';
import { EVERYONE, MODEL_CONFIG, USERS, type ModelWorld, type Who } from './model-world.ts';

/** A fault to inject into one command: which adapter and call, before or after its work, and as which answer. */
export interface FaultSpec {
  readonly on: 'cluster' | 'disks';
  readonly method: string;
  readonly when: Fault['when'];
  readonly nth: number;
  readonly error: 'unavailable' | 'conflict';
}

export const CLUSTER_METHODS = [
  'createDeployment',
  'readDeployment',
  'patchDeployment',
  'deleteDeployment',
  'watchDeployment',
  'listDeployments',
  'createLease',
  'readLease',
  'listLeases',
  'patchLease',
  'deleteLease',
  'createRecord',
  'readRecord',
  'replaceRecord',
  'deleteRecord',
] as const;
export const DISK_METHODS = ['createDisk', 'deleteDisk', 'getDisk', 'setLabels', 'listDisks'] as const;

/** One operation of a history, as plain data: fast-check prints it, and a reproducer is a list of these. */
export type Operation =
  | {
      readonly kind: 'create';
      readonly who: number;
      /** Which of the caller's keys (0-2), if any: the same key again is a re-sent create. */
      readonly key?: number;
      readonly queue?: boolean;
      /** The caller hangs up while it waits in line (an aborted signal). */
      readonly abandon?: boolean;
      readonly lifetime?: number;
      readonly wait?: boolean;
    }
  | { readonly kind: 'extend'; readonly who: number; readonly target: number; readonly lifetime?: number }
  | {
      readonly kind: 'suspend' | 'resume' | 'reset' | 'restart' | 'restore';
      readonly who: number;
      readonly target: number;
      readonly wait?: boolean;
    }
  | { readonly kind: 'share' | 'unshare'; readonly who: number; readonly target: number; readonly with: number }
  | { readonly kind: 'transfer'; readonly who: number; readonly target: number; readonly to: number }
  | { readonly kind: 'destroy'; readonly who: number; readonly target: number; readonly now?: boolean }
  | { readonly kind: 'sweep' }
  | { readonly kind: 'advance'; readonly ms: number };

/** What a history knows between its commands: the instances' names as they were made, and the queue's places. */
export interface Model {
  readonly names: string[];
  /** For each user and key that waited in line: its record and the place it took. */
  readonly places: Map<string, { readonly record: string; readonly since: string }>;
  /**
   * Operations run at once (interleaved): a queued create's place is then not
   * checked, as another's calls between its looks before and after change the line.
   */
  readonly concurrent?: boolean;
}

export const newModel = (): Model => ({ names: [], places: new Map() });

/** `who` of an operation on an instance that names whoever owns it now. */
export const OWNER = -1;

/** The person of index `who`: the users, then the admin. */
export const whoOf = (who: number): Who => EVERYONE[who % EVERYONE.length] as Who;

/** Who runs an operation on `name`: its owner now (from its Deployment, else its record), or the person of index `who`. */
function callerFor(w: ModelWorld, name: string, who: number): Who {
  if (who !== OWNER) return whoOf(who);
  const owner =
    w.cluster.deployments.get(name)?.metadata?.annotations?.[ANNOTATIONS.owner] ?? w.cluster.records.get(name)?.spec.owner.email;
  return EVERYONE.find((person) => person === owner) ?? whoOf(0);
}
const userOf = (index: number): string => USERS[index % USERS.length] as string;
const targetOf = (model: Model, target: number): string =>
  model.names.length === 0 ? 'syncbased-00000000' : (model.names[target % model.names.length] as string);

/** The statuses a refusal may have: the API's 4xx, and the 503 and 504 of an adapter that failed or a wait that ran out. */
const REFUSALS = new Set([400, 403, 404, 409, 429, 503, 504]);

/** An outcome that is neither a result nor a documented refusal: a crash (TypeError...) or a 500. */
export class UnexpectedError extends Error {
  override readonly name = 'UnexpectedError';
}

/**
 * The calls the API server may refuse with a 409 Conflict while nothing they
 * name has changed: an update on a resourceVersion that another write (even
 * one changing nothing) has moved on. A read never gets one, and a patch or
 * delete on a uid only once the object was replaced, which a history
 * arranges by itself: an injected conflict anywhere else is a lost answer.
 */
const CONFLICT_METHODS: ReadonlySet<string> = new Set(['replaceRecord']);

export function injectFaults(w: ModelWorld, faults: readonly FaultSpec[]): void {
  for (const fault of faults) {
    const conflict = fault.error === 'conflict' && fault.on === 'cluster' && CONFLICT_METHODS.has(fault.method);
    const error = conflict
      ? () => new ConflictError(`injected: ${fault.method} conflict`)
      : () => new UnavailableError(`injected: ${fault.method} unavailable`);
    (fault.on === 'cluster' ? w.cluster : w.disks).faults.inject({ method: fault.method, when: fault.when, nth: fault.nth, error });
  }
}

/** Runs one operation; answers `ok` or the refusal's status, and throws an UnexpectedError for anything else. */
export async function perform(w: ModelWorld, model: Model, op: Operation): Promise<string> {
  try {
    await act(w, model, op);
    return 'ok';
  } catch (error) {
    if (error instanceof InvariantError) throw error;
    if (error instanceof AllocatorError && REFUSALS.has(error.status)) return String(error.status);
    throw new UnexpectedError(`${describe(op)} threw ${describeErrorChain(error)}`, { cause: error });
  }
}

async function act(w: ModelWorld, model: Model, op: Operation): Promise<void> {
  switch (op.kind) {
    case 'create':
      return await create(w, model, op);
    case 'extend':
      await extendInstance(w.as(callerFor(w, targetOf(model, op.target), op.who)), {
        name: targetOf(model, op.target),
        ...(op.lifetime === undefined ? {} : { lifetimeSeconds: op.lifetime }),
      });
      return;
    case 'suspend':
      await suspendInstance(w.as(callerFor(w, targetOf(model, op.target), op.who)), { name: targetOf(model, op.target) });
      return;
    case 'resume':
    case 'reset':
    case 'restart': {
      const run = { resume: resumeInstance, reset: resetInstance, restart: restartInstance }[op.kind];
      await run(w.as(callerFor(w, targetOf(model, op.target), op.who)), {
        name: targetOf(model, op.target),
        wait: op.wait === true,
        waitMs: 60_000,
      });
      return;
    }
    case 'share':
    case 'unshare': {
      const run = op.kind === 'share' ? shareInstance : unshareInstance;
      await run(w.as(callerFor(w, targetOf(model, op.target), op.who)), { name: targetOf(model, op.target), emails: [userOf(op.with)] });
      return;
    }
    case 'transfer':
      await transferInstance(w.as(callerFor(w, targetOf(model, op.target), op.who)), {
        name: targetOf(model, op.target),
        to: userOf(op.to),
      });
      return;
    case 'destroy':
      await destroyInstance(w.as(callerFor(w, targetOf(model, op.target), op.who)), {
        name: targetOf(model, op.target),
        ...(op.now ? { now: true } : {}),
      });
      return;
    case 'restore': {
      const name = targetOf(model, op.target);
      const context = w.as(callerFor(w, name, op.who));
      const plan = (record: InstanceRecord): RestorePlan =>
        planRestore({
          config: MODEL_CONFIG,
          template,
          record,
          caller: context.caller,
          request: { name, wait: op.wait === true, waitMs: 60_000 },
          nowMs: w.clock.now(),
          random: w.random,
        });
      await restoreInstance(context, { name, plan });
      return;
    }
    case 'sweep': {
      const report = await runSweep(w.as(whoOf(EVERYONE.length - 1)), { dryRun: false });
      const crashed = report.failed.find((entry) => /^(TypeError|RangeError|ReferenceError|SyntaxError|Error):/.test(entry.error));
      if (crashed) throw new UnexpectedError(`the sweep's ${crashed.kind} of ${crashed.name} crashed: ${crashed.error}`);
      return;
    }
    case 'advance':
      w.clock.advance(op.ms);
      return;
  }
}

/**
 * A create as the create handler runs it: a new name after a name taken,
 * the pool when it is on. A queued create's place is checked: a re-sent one
 * keeps the place its record took, and one that nobody with room is ahead
 * of is not told to wait.
 */
async function create(w: ModelWorld, model: Model, op: Extract<Operation, { kind: 'create' }>): Promise<void> {
  const who = whoOf(op.who);
  const queue = op.queue === true || op.abandon === true;
  // A queued create needs a key (the handler's 400 otherwise).
  const key = op.key ?? (queue ? 0 : undefined);
  const controller = new AbortController();
  if (op.abandon) controller.abort();
  const context = w.as(who, op.abandon ? controller.signal : undefined);
  const request = {
    wait: op.wait === true,
    waitMs: 60_000,
    ...(op.lifetime === undefined ? {} : { lifetimeSeconds: op.lifetime }),
    ...(key === undefined ? {} : { idempotencyKey: `key-${key}` }),
    ...(queue ? { queue: true } : {}),
  };
  const placeKey = `${who}/${key}`;
  const before = queue && model.concurrent !== true ? queueView(w, who) : undefined;
  const known = queue ? model.places.get(placeKey) : undefined;
  const heldPlace = known && before?.livePlaces.some((place) => place.name === known.record && place.since === known.since);
  for (let attempt = 1; ; attempt += 1) {
    const nowMs = w.clock.now();
    const planFor = (name?: string) =>
      planCreate({
        config: MODEL_CONFIG,
        template,
        caller: context.caller,
        request,
        nowMs,
        random: w.random,
        ...(name === undefined ? {} : { name }),
      });
    try {
      const instance = await executeCreate(context, { planFor });
      if (!model.names.includes(instance.name)) model.names.push(instance.name);
      model.places.delete(placeKey);
      return;
    } catch (error) {
      if (error instanceof NameTakenError && attempt < 3) continue;
      if (queue && error instanceof AllocatorError && error.status === 409 && /^queued for a slot/.test(error.message)) {
        const after = queueView(w, who);
        const mine = after.livePlaces.filter((place) => !before?.livePlaces.some((seen) => seen.name === place.name));
        if (heldPlace && known && !tolerated('place') && !after.livePlaces.some((t) => t.name === known.record && t.since === known.since))
          throw new InvariantError(
            `a re-sent queued create of ${who} (${request.idempotencyKey}) lost its place: its record ${known.record} in line since ${known.since} is gone; now ${JSON.stringify(after.livePlaces)}`,
          );
        // Ahead of it may be only live places whose owner has room (the caller's own older ones too), never one at its own limit.
        const ahead = before?.livePlaces.filter((t) => t.ownerHasRoom && t.name !== known?.record) ?? [];
        if (before && before.ownRoom && before.globalRoom && ahead.length === 0 && !tolerated('queue'))
          throw new InvariantError(
            `a queued create of ${who} was told to wait though it had room, there was a global slot, and nobody with room was in line: ${JSON.stringify(before)}`,
          );
        const taken = heldPlace ? known : mine[0] && { record: mine[0].name, since: mine[0].since };
        if (taken) model.places.set(placeKey, taken);
      } else if (op.abandon && error instanceof AllocatorError && /went away/.test(error.message)) {
        const after = queueView(w, who);
        const mine = after.livePlaces.find((place) => !before?.livePlaces.some((seen) => seen.name === place.name));
        if (mine) model.places.set(placeKey, { record: mine.name, since: mine.since });
      }
      throw error;
    }
  }
}

interface QueueView {
  readonly ownHash: string;
  readonly ownRoom: boolean;
  readonly globalRoom: boolean;
  readonly livePlaces: readonly { name: string; owner: string; since: string; ownerHasRoom: boolean }[];
}

/** The queue as the truth has it: room by the per-user slots themselves (not by the global slots' labels), and the live places. */
function queueView(w: ModelWorld, who: Who): QueueView {
  const leases = [...w.cluster.leases.values()];
  const userSlots = new Map<string, number>();
  let global = 0;
  for (const lease of leases) {
    const labels = lease.metadata?.labels ?? {};
    const hash = labels[LABELS.ownerHash] ?? '';
    if (labels[SLOT_LABEL] === 'user') userSlots.set(hash, (userSlots.get(hash) ?? 0) + 1);
    if (labels[SLOT_LABEL] === 'global') global += 1;
  }
  const room = (hash: string): boolean => (userSlots.get(hash) ?? 0) < MODEL_CONFIG.limits.perUser;
  const ownHash = ownerHashOf(who);
  const livePlaces = lineOf([...w.cluster.records.values()])
    .filter((place) => isLive(place, w.clock.now()))
    .map((place) => ({ name: place.name, owner: place.ownerHash, since: String(place.sinceMs), ownerHasRoom: room(place.ownerHash) }));
  return { ownHash, ownRoom: room(ownHash), globalRoom: global < MODEL_CONFIG.limits.global, livePlaces };
}

/** An operation as a reproducer's line. */
export function describe(op: Operation): string {
  const { kind, ...rest } = op;
  const fields = Object.entries(rest).map(([key, value]) => `${key}: ${JSON.stringify(value)}`);
  return `${kind}(${fields.join(', ')})`;
}
