import fc from 'fast-check';
import { describe, it } from 'vitest';
import { newModel, settleAndExpire, startWorld } from './commands.ts';
import { checkAlways, checkKeptCount } from './invariants.ts';
import { LIMITS, modelWorld } from './model-world.ts';
import { OWNER, perform, type Operation } from './operations.ts';

/** Pairs of operations on one running instance. */
const PAIRS: readonly (readonly [Operation, Operation])[] = [
  [
    { kind: 'destroy', who: OWNER, target: 0 },
    { kind: 'transfer', who: OWNER, target: 0, to: 1 },
  ],
  [
    { kind: 'reset', who: OWNER, target: 0 },
    { kind: 'destroy', who: OWNER, target: 0 },
  ],
  [
    { kind: 'share', who: OWNER, target: 0, with: 2 },
    { kind: 'transfer', who: OWNER, target: 0, to: 1 },
  ],
  [
    { kind: 'transfer', who: OWNER, target: 0, to: 1 },
    { kind: 'transfer', who: 4, target: 0, to: 2 },
  ],
  [
    { kind: 'destroy', who: OWNER, target: 0 },
    { kind: 'destroy', who: 4, target: 0, now: true },
  ],
  [
    { kind: 'suspend', who: OWNER, target: 0 },
    { kind: 'restart', who: OWNER, target: 0 },
  ],
  [{ kind: 'destroy', who: OWNER, target: 0 }, { kind: 'sweep' }],
  [
    { kind: 'create', who: 0, key: 0 },
    { kind: 'create', who: 0, key: 0 },
  ],
  // A queued create and its re-send: a hand-over against a claim; two queued creates for the owner's last slot.
  [
    { kind: 'create', who: 0, key: 1, queue: true },
    { kind: 'create', who: 0, key: 1, queue: true },
  ],
  [
    { kind: 'create', who: 0, key: 1, queue: true },
    { kind: 'create', who: 0, key: 2, queue: true },
  ],
  [{ kind: 'create', who: 0, key: 1, queue: true }, { kind: 'sweep' }],
];

/**
 * Two operations of `pairs` on one instance at once (destroyed first, its
 * disk kept, when `kept`), their adapter calls interleaved as fc.scheduler
 * decides: each call of either fake waits for the scheduler's go. Whatever
 * the order, the invariants hold after both, and once everything has expired
 * nothing is left but the pool.
 */
const paired = (pairs: readonly (readonly [Operation, Operation])[], kept: boolean) =>
  fc.asyncProperty(
    fc.scheduler(),
    fc.constantFrom(...pairs),
    fc.record({ restoreWindowMs: fc.constantFrom(...(kept ? [86_400_000] : [0, 86_400_000])), poolSize: fc.constantFrom(0, 2) }),
    async (s, [first, second], settings) => {
      const w = modelWorld(settings);
      await startWorld(w);
      const model = { ...newModel(), concurrent: true };
      await perform(w, model, { kind: 'create', who: 0, lifetime: 3600 });
      if (kept) await perform(w, model, { kind: 'destroy', who: OWNER, target: 0 });
      const go = async (method: string): Promise<void> => void (await s.schedule(Promise.resolve(method), method));
      w.cluster.faults.beforeCall = go;
      w.disks.faults.beforeCall = go;
      await s.waitFor(Promise.all([perform(w, model, first), perform(w, model, second)]));
      w.cluster.faults.beforeCall = undefined;
      w.disks.faults.beforeCall = undefined;
      await s.waitIdle();
      await w.background.settled();
      checkAlways(w);
      await settleAndExpire(w);
    },
  );

describe('two operations on one instance, interleaved at every adapter call, keep the invariants', () => {
  const many = Number(process.env.INTERLEAVINGS ?? 0);
  it.each(many > 0 ? [Date.now()] : [1, 2, 3])('holds for seed %i', { timeout: 0 }, async (seed) => {
    await fc.assert(paired(PAIRS, false), { seed, numRuns: many > 0 ? many : 40 });
  });
});

/**
 * Destroys of one owner's instances at once, with a restore window: each
 * keeps its disk, and together they keep no more than the owner's count.
 */
const keptTogether = fc.asyncProperty(fc.scheduler(), async (s) => {
  const w = modelWorld({ restoreWindowMs: 86_400_000, poolSize: 0 });
  await startWorld(w);
  const model = { ...newModel(), concurrent: true };
  // One kept already, then as many running as the owner may run, all destroyed at once.
  await perform(w, model, { kind: 'create', who: 0, lifetime: 3600 });
  await perform(w, model, { kind: 'destroy', who: OWNER, target: 0 });
  for (let i = 0; i < LIMITS.perUser; i += 1) await perform(w, model, { kind: 'create', who: 0, lifetime: 3600 });
  const go = async (method: string): Promise<void> => void (await s.schedule(Promise.resolve(method), method));
  w.cluster.faults.beforeCall = go;
  w.disks.faults.beforeCall = go;
  const all = Promise.all(
    Array.from({ length: LIMITS.perUser }, (_, i) => perform(w, model, { kind: 'destroy', who: OWNER, target: i + 1 })),
  );
  await s.waitFor(all);
  w.cluster.faults.beforeCall = undefined;
  w.disks.faults.beforeCall = undefined;
  await s.waitIdle();
  checkAlways(w);
  checkKeptCount(w);
  await settleAndExpire(w);
});

describe('destroys of one owner at once keep no more instances than their count', () => {
  const many = Number(process.env.INTERLEAVINGS ?? 0);
  it.each(many > 0 ? [Date.now()] : [1, 2, 3])('holds for seed %i', { timeout: 0 }, async (seed) => {
    await fc.assert(keptTogether, { seed, numRuns: many > 0 ? many : 40 });
  });
});

/** More pairs on one running instance: each operation against one it was never paired with before. */
const MORE_PAIRS: readonly (readonly [Operation, Operation])[] = [
  [
    { kind: 'suspend', who: OWNER, target: 0 },
    { kind: 'destroy', who: OWNER, target: 0 },
  ],
  [
    { kind: 'resume', who: OWNER, target: 0 },
    { kind: 'suspend', who: OWNER, target: 0 },
  ],
  [
    { kind: 'reset', who: OWNER, target: 0 },
    { kind: 'restart', who: OWNER, target: 0 },
  ],
  [
    { kind: 'extend', who: OWNER, target: 0, lifetime: 60 },
    { kind: 'transfer', who: OWNER, target: 0, to: 1 },
  ],
  [
    { kind: 'unshare', who: OWNER, target: 0, with: 2 },
    { kind: 'share', who: OWNER, target: 0, with: 2 },
  ],
  [
    { kind: 'share', who: OWNER, target: 0, with: 2 },
    { kind: 'destroy', who: OWNER, target: 0 },
  ],
  [{ kind: 'reset', who: OWNER, target: 0 }, { kind: 'sweep' }],
  [
    { kind: 'create', who: 0, key: 2 },
    { kind: 'destroy', who: OWNER, target: 0, now: true },
  ],
];

/** Pairs on a destroyed instance, its disk kept: two restores, or a restore against a destroy, a transfer or the sweep. */
const KEPT_PAIRS: readonly (readonly [Operation, Operation])[] = [
  [
    { kind: 'restore', who: OWNER, target: 0 },
    { kind: 'restore', who: OWNER, target: 0 },
  ],
  [{ kind: 'restore', who: OWNER, target: 0 }, { kind: 'sweep' }],
  [
    { kind: 'restore', who: OWNER, target: 0 },
    { kind: 'destroy', who: OWNER, target: 0, now: true },
  ],
  [
    { kind: 'restore', who: OWNER, target: 0 },
    { kind: 'transfer', who: 4, target: 0, to: 1 },
  ],
  [
    { kind: 'restore', who: OWNER, target: 0 },
    { kind: 'create', who: 0, key: 1 },
  ],
];

describe('more pairs of operations on one instance, interleaved at every adapter call, keep the invariants', () => {
  const many = Number(process.env.INTERLEAVINGS ?? 0);
  it.each(many > 0 ? [Date.now()] : [1, 2, 3])('on a running instance, for seed %i', { timeout: 0 }, async (seed) => {
    await fc.assert(paired(MORE_PAIRS, false), { seed, numRuns: many > 0 ? many : 40 });
  });
  it.each(many > 0 ? [Date.now()] : [1, 2, 3])('on a destroyed instance kept for a restore, for seed %i', { timeout: 0 }, async (seed) => {
    await fc.assert(paired(KEPT_PAIRS, true), { seed, numRuns: many > 0 ? many : 40 });
  });
});
