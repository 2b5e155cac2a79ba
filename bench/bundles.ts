// The deployed form, measured: each function's bundle (what `npm run bundle`
// makes and cloudbuild.yaml deploys), installed alone, started as Cloud Run
// starts it, against a bare functions-framework function in the same run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFunctions } from '../infra/bundle.ts';
import { installAsBuildpackWould } from '../test/harness/buildpack-install.ts';
import { getFreePort } from '../test/harness/ports.ts';
import { startProcess } from '../test/harness/processes.ts';
import { rssOfChildNode } from './proc.ts';

const TEMPLATE = fileURLToPath(new URL('../templates/syncbased-deployment.json.hbs', import.meta.url));

export interface ColdFigures {
  /** Process start to the framework's first answer (any status). */
  readonly readyMs: number;
  /** The first real request, from when it was sent. */
  readonly firstRequestMs: number;
  /** The same request again, on the now warm process. */
  readonly warmRequestMs: number;
  readonly rssMb: number;
}

/** Bundles the three functions and installs each alone, as Cloud Run's Node.js buildpack would; returns their directories. */
export async function installedBundles(outDir: string): Promise<Record<'create' | 'destroy' | 'list', string>> {
  const bundles = await bundleFunctions({ outDir, template: TEMPLATE });
  for (const bundle of bundles) await installAsBuildpackWould(bundle.dir);
  return Object.fromEntries(bundles.map((bundle) => [bundle.name, bundle.dir])) as Record<'create' | 'destroy' | 'list', string>;
}

/** A function with nothing in it, as its own bundle directory: the floor. */
export function bareBundle(dir: string, frameworkDir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bare', type: 'module', main: 'index.js' }));
  writeFileSync(
    join(dir, 'index.js'),
    "import { http } from '@google-cloud/functions-framework';\nhttp('bare', (_req, res) => void res.send('ok'));\n",
  );
  mkdirSync(join(dir, 'node_modules', '@google-cloud'), { recursive: true });
  execFileSync('ln', ['-s', frameworkDir, join(dir, 'node_modules', '@google-cloud', 'functions-framework')]);
  return dir;
}

/** Starts `target` from `dir` and times its readiness, then its first real request, and reads its RSS. */
export async function coldBundle(options: {
  dir: string;
  target: string;
  env: Record<string, string>;
  request: (url: string) => Promise<Response>;
  logFile: string;
}): Promise<ColdFigures> {
  const port = await getFreePort();
  const url = `http://127.0.0.1:${port}`;
  const main = join(options.dir, 'node_modules/@google-cloud/functions-framework/build/src/main.js');
  const started = performance.now();
  const child = startProcess({
    name: `cold-${options.target}`,
    command: process.execPath,
    args: [main, `--target=${options.target}`, `--port=${port}`],
    cwd: options.dir,
    logFile: options.logFile,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...options.env },
  });
  try {
    for (;;) {
      if (
        (await fetch(url, { method: 'OPTIONS' }).then(
          (r) => r.status,
          () => 0,
        )) > 0
      )
        break;
      if (performance.now() - started > 30_000) throw new Error(`${options.target} never answered: ${child.logTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const readyMs = performance.now() - started;
    const timed = async (): Promise<number> => {
      const sent = performance.now();
      const answer = await options.request(url);
      if (!answer.ok) throw new Error(`${options.target}'s request answered ${answer.status}: ${await answer.text()}`);
      return performance.now() - sent;
    };
    const firstRequestMs = await timed();
    const rssMb = rssOfChildNode(child.pid);
    return { readyMs, firstRequestMs, warmRequestMs: await timed(), rssMb };
  } finally {
    await child.stop();
  }
}
