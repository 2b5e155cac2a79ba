import fc from 'fast-check';
import { GRACE_MS } from '../fakes/world.ts';
import { checkAlways, checkEmpty, checkLists, checkSettled, InvariantError } from './invariants.ts';
import { LOCK_MS, MODEL_CONFIG, type ModelWorld, type Settings } from './model-world.ts';
import {
  CLUSTER_METHODS,
  describe,
  DISK_METHODS,
  injectFaults,
  newModel,
  OWNER,
  perform,
  type FaultSpec,
  type Model,
  type Operation,
} from './operations.ts';
import { runSweep } from '../../../shared/executors/run-sweep.ts';

/** One command of a history: an operation, with the faults injected into its adapter calls. */
export class Step implements fc.AsyncCommand<Model, ModelWorld> {
  readonly op: Operation;
  readonly faults: readonly FaultSpec[];

  constructor(op: Operation, faults: readonly FaultSpec[]) {
    this.op = op;
    this.faults = faults;
  }

  check(): boolean {
    return true;
  }

  async run(model: Model, w: ModelWorld): Promise<void> {
    injectFaults(w, this.faults);
    try {
      w.outcomes.push(`${this.op.kind}:${await perform(w, model, this.op)}`);
    } finally {
      w.clearFaults();
    }
    await w.background.settled();
    checkAlways(w);
    await checkLists(w);
  }

  toString(): string {
    return this.faults.length === 0 ? describe(this.op) : `${describe(this.op)} with ${JSON.stringify(this.faults)}`;
  }
}

const who = fc.nat({ max: 4 }); // four users, then the admin
/** Who acts on an instance: mostly its owner, else anyone (a collaborator, the admin, a stranger). */
const actor = fc.oneof({ weight: 3, arbitrary: fc.constant(OWNER) }, { weight: 2, arbitrary: who });
const target = fc.nat({ max: 7 });
const user = fc.nat({ max: 3 });
const wait = fc.boolean();
const lifetime = fc.option(fc.constantFrom(60, 3600, 86_400), { nil: undefined });

const fault: fc.Arbitrary<FaultSpec> = fc.oneof(
  // A refusal (409) comes before the work; after it, only a lost answer (503): the API server never applies a write and refuses it.
  fc.record({
    on: fc.constant('cluster' as const),
    method: fc.constantFrom(...CLUSTER_METHODS),
    when: fc.constant('before' as const),
    nth: fc.integer({ min: 1, max: 3 }),
    error: fc.constantFrom('unavailable' as const, 'conflict' as const),
  }),
  fc.record({
    on: fc.constant('cluster' as const),
    method: fc.constantFrom(...CLUSTER_METHODS),
    when: fc.constant('after' as const),
    nth: fc.integer({ min: 1, max: 3 }),
    error: fc.constant('unavailable' as const),
  }),
  fc.record({
    on: fc.constant('disks' as const),
    method: fc.constantFrom(...DISK_METHODS),
    when: fc.constantFrom('before' as const, 'after' as const),
    nth: fc.integer({ min: 1, max: 3 }),
    error: fc.constant('unavailable' as const),
  }),
);
const faults = fc.oneof(
  { weight: 2, arbitrary: fc.constant([] as FaultSpec[]) },
  { weight: 1, arbitrary: fc.array(fault, { minLength: 1, maxLength: 2 }) },
);

const operations: fc.Arbitrary<Operation>[] = [
  fc.record(
    {
      kind: fc.constant('create' as const),
      who,
      key: fc.nat({ max: 2 }),
      queue: fc.boolean(),
      abandon: fc.boolean(),
      lifetime,
      wait,
    },
    { requiredKeys: ['kind', 'who'] },
  ),
  fc.record({ kind: fc.constant('extend' as const), who: actor, target, lifetime }, { requiredKeys: ['kind', 'who', 'target'] }),
  fc.record({
    kind: fc.constantFrom('suspend' as const, 'resume' as const, 'reset' as const, 'restart' as const),
    who: actor,
    target,
    wait,
  }),
  fc.record({ kind: fc.constantFrom('share' as const, 'unshare' as const), who: actor, target, with: user }),
  fc.record({ kind: fc.constant('transfer' as const), who: actor, target, to: user }),
  fc.record({ kind: fc.constant('destroy' as const), who: actor, target, now: fc.boolean() }),
  fc.record({ kind: fc.constant('restore' as const), who: actor, target, wait }),
  fc.constant({ kind: 'sweep' as const }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(1_000, LOCK_MS + 1_000, GRACE_MS + 1_000, 3_601_000) }),
];

/** Histories: creates weigh most, so that there are instances to act on. */
export const history = fc.commands(
  [
    fc.tuple(operations[0]!, faults).map(([op, f]) => new Step(op, f)),
    fc.tuple(operations[0]!, faults).map(([op, f]) => new Step(op, f)),
    ...operations.slice(1).map((arbitrary) => fc.tuple(arbitrary, faults).map(([op, f]) => new Step(op, f))),
  ],
  { maxCommands: 40, size: 'large' },
);

export const settings: fc.Arbitrary<Settings> = fc.record({
  restoreWindowMs: fc.constantFrom(0, 86_400_000),
  poolSize: fc.constantFrom(0, 2),
});

/** A sweep with no fault injected: anything it fails to do is a finding. */
async function cleanSweep(w: ModelWorld): Promise<void> {
  const report = await runSweep(w.as('root@example.com'), { dryRun: false });
  await w.background.settled();
  if (report.failed.length > 0) throw new InvariantError(`a sweep with no fault failed: ${JSON.stringify(report.failed)}`);
}

/** A world before its history: the pool filled by a sweep, as a deployed allocator's is. */
export async function startWorld(w: ModelWorld): Promise<void> {
  if (w.settings.poolSize > 0) await cleanSweep(w);
}

/**
 * After a history: past every lock's deadline and the grace period, one
 * sweep settles what failures left (checked); then past every lifetime and
 * restore window, two more leave nothing but the pool (checked).
 */
export async function settleAndExpire(w: ModelWorld): Promise<void> {
  w.clearFaults();
  await w.background.settled();
  w.clock.advance(GRACE_MS + LOCK_MS + 1_000);
  await cleanSweep(w);
  checkSettled(w);
  w.clock.advance(MODEL_CONFIG.lifetime.maxSeconds * 1000 + GRACE_MS + 1_000);
  await cleanSweep(w);
  w.clock.advance(w.settings.restoreWindowMs + GRACE_MS + 1_000);
  await cleanSweep(w);
  await cleanSweep(w);
  checkEmpty(w);
}

export { newModel };
