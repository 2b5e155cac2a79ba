import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { load } from 'js-yaml';
import { getFreePort } from './ports.ts';
import { startProcess, waitUntil, type ManagedProcess } from './processes.ts';

export const FUNCTION_NAMES = ['create', 'destroy', 'list'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The framework's CLI, beside its index (build/src/index.js); package exports hide it.
const FRAMEWORK_MAIN = join(dirname(createRequire(import.meta.url).resolve('@google-cloud/functions-framework')), 'main.js');

export interface FunctionProcess {
  readonly name: FunctionName;
  readonly url: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * What the deploy gives function `name` besides the environment all three
 * share: `infra/function-env/<name>.yaml`, which cloudbuild.yaml adds to it
 * (list's V8 setting), or nothing for a function without one.
 */
export function deployedEnv(name: FunctionName): Record<string, string> {
  const file = join(REPO_ROOT, 'infra', 'function-env', `${name}.yaml`);
  if (!existsSync(file)) return {};
  const parsed: unknown = load(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Object.values(parsed).some((value) => typeof value !== 'string'))
    throw new Error(`${file} must map each variable to a quoted string, as gcloud's --env-vars-file takes it`);
  return parsed as Record<string, string>;
}

/**
 * Runs one function the way Cloud Run does: the functions-framework CLI with
 * `--target` and `--source`, as its own Node process (Node 22 strips the
 * TypeScript types), with the environment the deploy gives it
 * (`deployedEnv`) and `env`, which wins.
 */
export async function startFunctionProcess(options: {
  name: FunctionName;
  env: Record<string, string>;
  logFile: string;
  port?: number;
}): Promise<FunctionProcess> {
  const port = options.port ?? (await getFreePort());
  const child = startProcess({
    name: `function-${options.name}`,
    command: process.execPath,
    args: [
      FRAMEWORK_MAIN,
      `--target=${options.name}`,
      `--source=${join(REPO_ROOT, 'functions', options.name, 'index.ts')}`,
      `--port=${port}`,
    ],
    logFile: options.logFile,
    env: { ...process.env, ...deployedEnv(options.name), ...options.env, NODE_ENV: 'production' },
  });
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  void child.exited.then(() => (exited = true));
  await waitUntil(
    async () => {
      if (exited) throw new Error(`function ${options.name} exited`);
      await fetch(url, { method: 'OPTIONS' });
      return true;
    },
    { timeoutMs: 30_000, what: `function ${options.name} on ${url}`, describe: () => child.logTail() },
  );
  return { name: options.name, url, process: child, stop: () => child.stop() };
}
