// `HISTORIES=200 node bench/histories.ts`: issue 29's model-based histories
// against the real local stack (test/integration/model/real-world.ts): a
// control plane, the disks emulator with its faults, and two sets of create,
// destroy and list function processes serving one namespace. Runs HISTORIES
// histories (default 200) of up to HISTORIES_STEPS steps (default 10), or as
// many as fit in HISTORIES_MINUTES (default 20); HISTORIES_SEED replays a run,
// HISTORIES_ONLY=<index> one history of it. Prints each violation with the
// steps that led to it, and one line of counts.
import fc from 'fast-check';
import { startControlPlane } from '../test/harness/control-plane.ts';
import { cleanUp, describeStep, history, runHistory, startRealStack, Violation } from '../test/integration/model/real-world.ts';

const COUNT = Number(process.env.HISTORIES ?? 200);
const STEPS = Number(process.env.HISTORIES_STEPS ?? 10);
const MINUTES = Number(process.env.HISTORIES_MINUTES ?? 20);
const SEED = process.env.HISTORIES_SEED === undefined ? Date.now() % 1_000_000 : Number(process.env.HISTORIES_SEED);
const ONLY = process.env.HISTORIES_ONLY === undefined ? undefined : Number(process.env.HISTORIES_ONLY);

async function main(): Promise<void> {
  const controlPlane = await startControlPlane();
  const stack = await startRealStack({ kubeconfigPath: controlPlane.kubeconfigPath, namespace: 'histories' });
  const started = Date.now();
  const outcomes = new Map<string, number>();
  const violations: string[] = [];
  const contract: string[] = [];
  let run = 0;
  let steps = 0;
  try {
    const histories = fc.sample(history(STEPS), { seed: SEED, numRuns: COUNT });
    for (const [index, one] of histories.entries()) {
      if (ONLY !== undefined && index !== ONLY) continue;
      if (Date.now() - started > MINUTES * 60_000) break;
      run += 1;
      steps += one.length;
      if (process.env.HISTORIES_VERBOSE) console.log(`#${index}:\n  ${one.map(describeStep).join('\n  ')}`);
      try {
        const report = await runHistory(stack, one);
        for (const outcome of report.outcomes) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        for (const answer of report.contract) {
          contract.push(`history #${index}: ${answer}`);
          console.log(`OUTSIDE THE DESCRIPTION in history #${index} (seed ${SEED}): ${answer}\n`);
        }
      } catch (error) {
        if (!(error instanceof Violation)) throw error;
        violations.push(`history #${index} (seed ${SEED}): ${error.message}`);
        console.log(`VIOLATION in history #${index} (seed ${SEED}): ${error.message}\n`);
        await cleanUp(stack);
      }
    }
  } finally {
    await stack.stop();
    await controlPlane.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const sorted = [...outcomes].sort(([a], [b]) => a.localeCompare(b));
  console.log(`outcomes: ${sorted.map(([key, n]) => `${key}=${n}`).join(' ')}`);
  console.log(
    `histories: ${run} run (${steps} steps) against the real local stack, seed ${SEED}, in ${seconds.toFixed(0)} s: ${violations.length} invariant violations, ${contract.length} answers outside /openapi.json`,
  );
  if (violations.length + contract.length > 0) process.exitCode = 1;
}

await main();
