import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MissingIdentityError } from './errors.ts';
import { LoginStore } from './login-store.ts';
import { jwtClaims, OAuthError, refreshIdToken } from './oauth.ts';

/** Where the client gets the Google ID token it sends. */
export interface IdTokenSource {
  getIdToken(audience: string): Promise<string>;
}

export function staticToken(token: string): IdTokenSource {
  return { getIdToken: async () => token };
}

/**
 * The usual chain: the sign-in `allocator login` keeps for this allocator (an
 * ID token for the allocator's own client id, minted from its refresh token);
 * else google-auth-library's ID token client (service accounts, Cloud Run,
 * GCE, impersonation); else `gcloud auth print-identity-token` for a person.
 * Tokens are cached until a minute before they expire.
 */
export function googleIdTokenSource(
  options: {
    /** The gcloud command; default `gcloud` on the PATH. */
    gcloud?: string;
    /** Where `allocator login` keeps its sign-ins; default the user's config directory. */
    logins?: LoginStore;
    fetch?: typeof fetch;
  } = {},
): IdTokenSource {
  const cache = new Map<string, { token: string; expiresAt: number }>();
  return {
    async getIdToken(audience) {
      const cached = cache.get(audience);
      if (cached && cached.expiresAt - 60_000 > Date.now()) return cached.token;
      const failures: Error[] = [];
      const token =
        (await fromLogin(audience, options.logins ?? new LoginStore(), options.fetch ?? fetch)) ??
        (await fromGoogleAuth(audience, failures)) ??
        (await fromGcloud(options.gcloud ?? 'gcloud', failures));
      if (!token) {
        throw new MissingIdentityError(
          `no Google identity found (${failures.map((failure) => failure.message).join('; ')}). Either sign in with \`allocator login\`, or pass --token (or ALLOCATOR_TOKEN), or set GOOGLE_APPLICATION_CREDENTIALS to a service account key or run on Google Cloud with a service account, or sign in with \`gcloud auth login\` so that \`gcloud auth print-identity-token\` works`,
          { cause: new AggregateError(failures, 'every source of ID tokens failed') },
        );
      }
      cache.set(audience, { token, expiresAt: expiryOf(token) });
      return token;
    },
  };
}

/**
 * An ID token from the refresh token `allocator login` stored for this
 * allocator, or undefined when there is none. A refused refresh token is not
 * passed over for another identity: the person asked for this one.
 */
async function fromLogin(allocator: string, logins: LoginStore, fetchImpl: typeof fetch): Promise<string | undefined> {
  const login = logins.get(allocator);
  if (login === undefined) return undefined;
  try {
    return (await refreshIdToken(login, login.refreshToken, fetchImpl)).idToken;
  } catch (error) {
    if (error instanceof OAuthError && (error.code === 'invalid_grant' || error.code === 'invalid_client')) {
      throw new MissingIdentityError(
        `the sign-in to ${allocator}${login.email ? ` as ${login.email}` : ''} is no longer good (${error.message}): run \`allocator login\` again, or \`allocator logout\` to use another identity`,
        { cause: error },
      );
    }
    throw error;
  }
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
  const { exp } = jwtClaims(token);
  return typeof exp === 'number' ? exp * 1000 : Date.now() + 300_000;
}
