// The ways of loading @google-cloud/compute's disk clients, each timed from
// process start to its first disk call, in fresh processes.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { bundleOptions } from '../infra/bundle.ts';
import { percentile } from './stats.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PROBE = join(ROOT, 'bench', 'compute-probe.ts');

export interface ComputeOption {
  readonly label: string;
  readonly ms: number;
  readonly rssMb: number;
}

/** Medians over `rounds` fresh processes for each way; the first is the package's index, the baseline. */
export async function measureComputeOptions(emulatorUrl: string, rounds: number): Promise<ComputeOption[]> {
  // Inside the checkout, so that the bundle finds google-gax and google-auth-library where a deploy installs them.
  const bundled = join(ROOT, 'node_modules', '.cache', 'allocator-bench', 'compute-probe.mjs');
  mkdirSync(join(bundled, '..'), { recursive: true });
  await build(bundleOptions(PROBE, bundled));
  const ways = [
    { label: 'package index, from source (before)', script: PROBE, mode: 'package-index' },
    { label: 'two client modules, from source', script: PROBE, mode: 'client-modules' },
    { label: 'bundled, protos cut (deployed)', script: bundled, mode: 'client-modules' },
  ];
  const results: ComputeOption[] = [];
  for (const way of ways) {
    const samples: { ms: number; rssMb: number }[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const { stdout } = await run(process.execPath, [way.script, way.mode, emulatorUrl], {
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
      });
      samples.push(JSON.parse(stdout.trim().split('\n').pop()!) as { ms: number; rssMb: number });
    }
    results.push({
      label: way.label,
      ms: percentile(
        samples.map((s) => s.ms),
        50,
      ),
      rssMb: percentile(
        samples.map((s) => s.rssMb),
        50,
      ),
    });
  }
  return results;
}
