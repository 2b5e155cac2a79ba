// Where a bundle's cold start goes: each package the functions load at start,
// bundled as they are bundled and imported alone in a fresh process, from the
// list bundle's directory (so that installed packages resolve as deployed).
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { bundleOptions } from '../infra/bundle.ts';
import { percentile } from './stats.ts';

const run = promisify(execFile);
// Inside the checkout, so that esbuild finds the packages to bundle as it does for the functions.
const SOURCES = fileURLToPath(new URL('../node_modules/.cache/allocator-bench/import-parts/', import.meta.url));

/** What is imported, as source a function could start with. */
const PARTS = [
  { label: 'nothing (an empty module)', source: '' },
  { label: "client-node's KubeConfig", source: "import { KubeConfig } from '@kubernetes/client-node';\nglobalThis.kept = [KubeConfig];" },
  {
    label: 'undici, the modules client-node takes (see infra/bundle.ts)',
    source:
      "import Agent from 'undici/lib/dispatcher/agent.js';\nimport ProxyAgent from 'undici/lib/dispatcher/proxy-agent.js';\nimport fetchModule from 'undici/lib/web/fetch/index.js';\nglobalThis.kept = [Agent, ProxyAgent, fetchModule.fetch];",
  },
  {
    label: 'undici, whole (as its index loads it)',
    source: "import { Agent, ProxyAgent, fetch } from 'undici';\nglobalThis.kept = [Agent, ProxyAgent, fetch];",
  },
  {
    label: 'client-node, the parts the functions use',
    source:
      "import { AppsV1Api, CoordinationV1Api, KubeConfig, KubernetesObjectApi, Watch } from '@kubernetes/client-node';\nglobalThis.kept = [AppsV1Api, CoordinationV1Api, KubeConfig, KubernetesObjectApi, Watch];",
  },
  {
    label: 'google-auth-library (bundled)',
    source: "import { GoogleAuth, OAuth2Client } from 'google-auth-library';\nglobalThis.kept = [GoogleAuth, OAuth2Client];",
  },
] as const;

export interface ImportCost {
  readonly label: string;
  /** Median time of the import alone, in a fresh process. */
  readonly ms: number;
}

/** Medians over `rounds` fresh processes of importing each part, built into `bundleDir` (an installed bundle's directory). */
export async function measureImportCosts(bundleDir: string, rounds: number): Promise<ImportCost[]> {
  mkdirSync(SOURCES, { recursive: true });
  const files: string[] = [];
  for (const [index, part] of PARTS.entries()) {
    const entry = join(SOURCES, `part-${index}.ts`);
    writeFileSync(entry, `${part.source}\n`);
    const outfile = join(bundleDir, `import-part-${index}.mjs`);
    await build(bundleOptions(entry, outfile));
    files.push(outfile);
  }
  const timeImport = async (file: string): Promise<number> => {
    const script = `const started = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - started);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: bundleDir,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    });
    return Number(stdout.trim());
  };
  const samples: number[][] = PARTS.map(() => []);
  for (let round = 0; round < rounds; round += 1) {
    for (const [index, file] of files.entries()) samples[index]!.push(await timeImport(file));
  }
  return PARTS.map((part, index) => ({ label: part.label, ms: percentile(samples[index]!, 50) }));
}
