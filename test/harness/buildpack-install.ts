import { execFile } from 'node:child_process';
import { delimiter, dirname } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Does in `dir` (a bundle's directory) what Cloud Run's Node.js buildpack
 * does with a function's source: installs its runtime dependencies, then runs
 * its gcp-build script, with the Node that will serve it first on the PATH (a
 * build has one Node, and the compile cache it makes fits no other).
 */
export async function installAsBuildpackWould(dir: string): Promise<void> {
  await run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: dir,
    timeout: 240_000,
  });
  await run('npm', ['run', 'gcp-build', '--silent'], {
    cwd: dir,
    timeout: 120_000,
    env: { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` },
  });
}
