// `npm run --silent local:token -- <email> [--service-account]`: prints an ID
// token from the running `npm run local` stack's issuer.
import { readFileSync } from 'node:fs';
import { STACK_FILE, type LocalStackInfo } from './stack-file.ts';

async function main(args: string[]): Promise<number> {
  const email = args.find((arg) => !arg.startsWith('--'));
  if (!email) {
    console.error('usage: npm run --silent local:token -- <email> [--service-account]');
    return 2;
  }
  let info: LocalStackInfo;
  try {
    info = JSON.parse(readFileSync(STACK_FILE, 'utf8')) as LocalStackInfo;
  } catch {
    console.error(`no local stack is running (${STACK_FILE} is missing): start one with npm run local`);
    return 1;
  }
  const response = await fetch(`${info.issuerUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, audience: info.audience, kind: args.includes('--service-account') ? 'serviceAccount' : 'user' }),
  }).catch(() => undefined);
  if (!response?.ok) {
    console.error(`the local token issuer at ${info.issuerUrl} did not answer; is npm run local still running?`);
    return 1;
  }
  console.log(((await response.json()) as { id_token: string }).id_token);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
