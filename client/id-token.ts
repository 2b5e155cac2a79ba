import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MissingIdentityError } from './errors.ts';

/** Where the client gets the Google ID token it sends. */
export interface IdTokenSource {
  getIdToken(audience: string): Promise<string>;
}

export function staticToken(token: string): IdTokenSource {
  return { getIdToken: async () => token };
}

/**
 * The usual chain: google-auth-library's ID token client (service accounts,
 * Cloud Run, GCE, impersonation), then `gcloud auth print-identity-token` for a
 * person. Tokens are cached until a minute before they expire.
 */
export function googleIdTokenSource(options: { gcloud?: string } = {}): IdTokenSource {
  const cache = new Map<string, { token: string; expiresAt: number }>();
  return {
    async getIdToken(audience) {
      const cached = cache.get(audience);
      if (cached && cached.expiresAt - 60_000 > Date.now()) return cached.token;
      const failures: Error[] = [];
      const token = (await fromGoogleAuth(audience, failures)) ?? (await fromGcloud(options.gcloud ?? 'gcloud', failures));
      if (!token) {
        throw new MissingIdentityError(
          `no Google identity found (${failures.map((failure) => failure.message).join('; ')}). Either pass --token (or ALLOCATOR_TOKEN), or set GOOGLE_APPLICATION_CREDENTIALS to a service account key or run on Google Cloud with a service account, or sign in with \`gcloud auth login\` so that \`gcloud auth print-identity-token\` works`,
          { cause: new AggregateError(failures, 'every source of ID tokens failed') },
        );
      }
      cache.set(audience, { token, expiresAt: expiryOf(token) });
      return token;
    },
  };
}

/** A token from google-auth-library, or why there is none (a person's credentials cannot mint one for an audience). */
async function fromGoogleAuth(audience: string, failures: Error[]): Promise<string | undefined> {
  try {
    const { GoogleAuth } = await import('google-auth-library');
    const client = await new GoogleAuth().getIdTokenClient(audience);
    return await client.idTokenProvider.fetchIdToken(audience);
  } catch (error) {
    failures.push(new Error(`google-auth-library: ${firstLine(error)}`, { cause: error }));
    return undefined;
  }
}

async function fromGcloud(gcloud: string, failures: Error[]): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)(gcloud, ['auth', 'print-identity-token'], { timeout: 30_000 });
    const token = stdout.trim();
    if (token === '') failures.push(new Error('gcloud printed no token'));
    return token === '' ? undefined : token;
  } catch (error) {
    const { code, stderr } = error as { code?: string | number; stderr?: string };
    const said = stderr
      ?.trim()
      .split('\n')[0]
      ?.replace(/^ERROR: \([^)]*\)\s*/, '');
    failures.push(new Error(`gcloud: ${code === 'ENOENT' ? 'not installed' : said || firstLine(error)}`, { cause: error }));
    return undefined;
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

function expiryOf(token: string): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: number };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : Date.now() + 300_000;
  } catch {
    return Date.now() + 300_000;
  }
}
