import fc from 'fast-check';
import { describe, it } from 'vitest';
import { history, newModel, settings, settleAndExpire, startWorld } from './commands.ts';
import { modelWorld } from './model-world.ts';

/**
 * Issue 29's model-based test: random histories of every operation, by four
 * users and an admin, against the in-memory fakes, with failures injected at
 * the adapters' calls. After every command the safety invariants hold
 * (`checkAlways`) and each person's list shows what they may see
 * (`checkLists`); after the history, a sweep past the grace period settles
 * what failures left (`checkSettled`), and once everything has expired two
 * more leave nothing but the pool (`checkEmpty`).
 *
 * `npm test` runs a few fixed seeds. A long run, with a new seed each time:
 * `HISTORIES=5000 npx vitest run --project unit test/unit/model/histories.test.ts`
 * (`HISTORIES_SEED=<n>` replays one; fast-check prints the seed and the
 * shrunk history of any failure). `MODEL_TOLERATE=record,queue,slots,agree,list`
 * passes over those invariants, to look past a known finding.
 */
// The second row: seeds that found violations (transfer vs record, the queue after a transfer, the pool and the queue,
// a record left destroying), kept once fixed.
const SEEDS = [2, 3, 5, 6, 7, 8, 1, 9, 10, 19, 22, 26];
const RUNS_PER_SEED = 25;

/**
 * Histories that long runs found a violation in, kept once fixed: the run of
 * its seed that failed (`path`, the first number of the path fast-check
 * prints), replayed as generated, before shrinking (a shrunk path replays only
 * while it still fails). 1183428814: a restore whose Deployment's answer was
 * lost, and whose undo could not remove it, gave its slots back. 1184081658: a
 * sweep whose pool half failed answered while its record walk went on, and
 * tore an instance down after the answer. 1199829261: a destroy whose slot's
 * delete was refused (read as a slot taken since) left it, and a restore then
 * held two per-user slots for one instance. 1203501177: a pooled create whose
 * slot's undo failed gave its disk back, and the next create of that disk
 * held the leftover slot and its own.
 */
const COUNTEREXAMPLES = [
  { seed: 1183428814, path: '305' },
  { seed: 1184081658, path: '3783' },
  { seed: 1199829261, path: '149' },
  { seed: 1203501177, path: '2861' },
];

const property = fc.asyncProperty(settings, history, async (chosen, commands) => {
  const w = modelWorld(chosen);
  await startWorld(w);
  await fc.asyncModelRun(() => ({ model: newModel(), real: w }), commands);
  await settleAndExpire(w);
});

describe('histories of every operation, with failures injected, keep the invariants', () => {
  const many = Number(process.env.HISTORIES ?? 0);
  if (many > 0) {
    it(`holds for ${many} random histories`, { timeout: 0 }, async () => {
      const seed = process.env.HISTORIES_SEED === undefined ? Date.now() : Number(process.env.HISTORIES_SEED);
      await fc.assert(property, { seed, numRuns: many });
    });
  } else {
    it.each(SEEDS)('holds for seed %i', { timeout: 60_000 }, async (seed) => {
      await fc.assert(property, { seed, numRuns: RUNS_PER_SEED });
    });
    it.each(COUNTEREXAMPLES)('holds for the counterexample of seed $seed', { timeout: 60_000 }, async ({ seed, path }) => {
      await fc.assert(property, { seed, path, endOnFailure: true });
    });
  }
});
