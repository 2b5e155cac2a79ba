import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where the tests look for Chromium: `$CHROMIUM_PATH`, else Debian's package, which `.ci/run` installs. */
export const CHROMIUM_CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(
  (path): path is string => Boolean(path),
);

export function findChromium(): string {
  const found = CHROMIUM_CANDIDATES.find((path) => existsSync(path));
  if (!found)
    throw new Error(
      `no Chromium at ${CHROMIUM_CANDIDATES.join(' or ')}: install Debian's package (apt-get install chromium), as .ci/run does, or set CHROMIUM_PATH`,
    );
  return found;
}

/**
 * Headless Chromium, driven by playwright-core. Background networking is off:
 * this machine reaches nothing but loopback, and Chromium's own calls home
 * would only be refused.
 */
export async function launchChromium(): Promise<Browser> {
  return await chromium.launch({
    executablePath: findChromium(),
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
