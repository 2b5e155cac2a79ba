import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { controlPlaneCacheDir } from './build.ts';

/** Chromium as installed by a distribution, used when present. */
export const SYSTEM_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** An executable to launch, and what its process needs in its environment. */
export interface ChromiumExecutable {
  readonly executablePath: string;
  readonly env: Record<string, string>;
}

/**
 * `$CHROMIUM_PATH`, else a system Chromium, else the headless Chromium that the
 * `@sparticuz/chromium` devDependency carries in its own tarball, so that
 * `npm ci` alone is enough.
 */
export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<ChromiumExecutable> {
  if (env.CHROMIUM_PATH) {
    if (!existsSync(env.CHROMIUM_PATH)) throw new Error(`CHROMIUM_PATH is ${env.CHROMIUM_PATH}, which does not exist`);
    return { executablePath: env.CHROMIUM_PATH, env: {} };
  }
  const system = SYSTEM_CHROMIUM.find((path) => existsSync(path));
  if (system) return { executablePath: system, env: {} };
  return await npmChromium();
}

let unpacked: Promise<ChromiumExecutable> | undefined;

/**
 * `@sparticuz/chromium` ships Chromium brotli-compressed, with the NSS and
 * expat libraries it links against and a font. Its own `executablePath()`
 * unpacks them straight into /tmp/chromium and takes an existing file there as
 * done, whichever version or half-written file it is: two vitest workers
 * launching at once could run a half-written binary. So we unpack with its
 * `inflate` into a directory of our own, per package version, in the same
 * cache as the control plane: each process writes a private staging directory
 * and renames it into place, and whoever renames second drops its copy. No
 * lock, nothing in /tmp, and a killed unpack leaves only its staging directory,
 * which the next unpack removes.
 */
function npmChromium(): Promise<ChromiumExecutable> {
  unpacked ??= unpackNpmChromium().catch((error: unknown) => {
    unpacked = undefined;
    throw error;
  });
  return unpacked;
}

async function unpackNpmChromium(): Promise<ChromiumExecutable> {
  const entry = createRequire(import.meta.url).resolve('@sparticuz/chromium');
  const packageDir = join(dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const cacheDir = controlPlaneCacheDir();
  const name = `chromium-${version}`;
  const dir = join(cacheDir, name);
  const found = (root: string): ChromiumExecutable => ({
    executablePath: join(root, 'chromium'),
    env: {
      LD_LIBRARY_PATH: [join(root, 'al2023', 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_FILE: join(root, 'fonts.conf'),
    },
  });
  if (existsSync(dir)) return found(dir);

  await mkdir(cacheDir, { recursive: true });
  for (const file of readdirSync(cacheDir)) {
    const pid = new RegExp(`^${name}\\.partial-(\\d+)-`).exec(file)?.[1];
    if (pid && !isAlive(Number(pid))) await rm(join(cacheDir, file), { recursive: true, force: true });
  }
  const staging = join(cacheDir, `${name}.partial-${process.pid}-${Math.random().toString(36).slice(2)}`);
  await mkdir(staging);
  try {
    // inflate() writes into os.tmpdir(), so it runs in a child whose TMPDIR is the staging directory.
    // Swiftshader (WebGL) is left out: the tests launch with --disable-gpu.
    const script = `
      import { inflate } from ${JSON.stringify(pathToFileURL(entry).href)};
      const bin = ${JSON.stringify(join(packageDir, 'bin'))};
      await Promise.all(['chromium.br', 'al2023.tar.br', 'fonts.tar.br'].map((file) => inflate(bin + '/' + file)));
    `;
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, TMPDIR: staging },
    });
    // The package's fonts.conf names /tmp/fonts; ours names the staged copy.
    await writeFile(
      join(staging, 'fonts.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n` +
        `  <dir>${join(dir, 'fonts', 'fonts')}</dir>\n  <cachedir>${join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
    );
    await rename(staging, dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    // Another process renamed its copy into place first: use that one.
    if (existsSync(join(dir, 'chromium'))) return found(dir);
    throw error;
  }
  return found(dir);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Headless Chromium, driven by playwright-core. Background networking is off:
 * this machine reaches nothing but loopback, and Chromium's own calls home
 * would only be refused. None of `@sparticuz/chromium`'s own `args` are
 * needed here: they are for AWS Lambda (--single-process, --no-zygote), and
 * some (--disable-web-security) would switch off the CORS the dashboard's
 * tests depend on.
 */
export async function launchChromium(): Promise<Browser> {
  const { executablePath, env } = await findChromium();
  return await chromium.launch({
    executablePath,
    env: { ...process.env, ...env },
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
