import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanUp, history, runHistory, startRealStack, type RealStack } from './real-world.ts';

/**
 * Issue 29 against the real local stack: a few short histories of every
 * operation, sent over HTTP to two sets of create, destroy and list function
 * processes serving one namespace, two at once where a step pairs them, with
 * the disks emulator's faults; the invariants read from the API server and
 * the emulator after every step, after a settling sweep, and once everything
 * has expired (see real-world.ts). The long run: `node bench/histories.ts`.
 */
const SEEDS = [1, 2, 3];
const STEPS = 6;
/**
 * Histories that `bench/histories.ts` found breaking the contract or an
 * invariant, as it numbers them: its seed, the history's index in that run,
 * and the run's steps per history (`HISTORIES_STEPS`, 10 by default).
 */
const FOUND = [
  // The sweep answered a Compute Engine 429 on its scan of the disks, which its description did not declare.
  { seed: 167743, index: 165, steps: 10 },
];

let stack: RealStack;
beforeAll(async () => {
  stack = await startRealStack({ kubeconfigPath: inject('kubeconfigPath'), namespace: `histories-${randomBytes(3).toString('hex')}` });
});
afterAll(async () => stack?.stop());

describe('histories against two sets of function processes, the API server and the disks emulator', () => {
  it.each([...SEEDS.map((seed) => ({ seed, index: 0, steps: STEPS })), ...FOUND])(
    'keep the invariants for seed $seed, history $index',
    { timeout: 90_000 },
    async ({ seed, index, steps: length }) => {
      const steps = fc.sample(history(length), { seed, numRuns: index + 1 })[index];
      try {
        const { outcomes, contract } = await runHistory(stack, steps!);
        expect(outcomes.length).toBeGreaterThan(0);
        expect(contract).toEqual([]);
      } catch (error) {
        await cleanUp(stack);
        throw error;
      }
    },
  );
});
