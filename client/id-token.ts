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
          [`no Google identity found (${failures.map((failure) => failure.message).join('; ')}). Either:`, ...WAYS_TO_AN_IDENTITY].join(
            '\n  - ',
          ),
          { cause: new AggregateError(failures, 'every source of ID tokens failed') },
        );
      }
      cache.set(audience, { token, expiresAt: expiryOf(token) });
      return token;
    },
  };
}

/** What the message of a missing identity offers, one a line. */
const WAYS_TO_AN_IDENTITY = [
  'sign in with `allocator login`',
  'pass --token (or set ALLOCATOR_TOKEN)',
  'set GOOGLE_APPLICATION_CREDENTIALS to a service account key',
  'run on Google Cloud, with a service account',
  'sign in with `gcloud auth login`, so that `gcloud auth print-identity-token` works',
];

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
    return await withoutMetadataLookupWarning(async () => {
      const client = await new GoogleAuth().getIdTokenClient(audience);
      return await client.idTokenProvider.fetchIdToken(audience);
    });
  } catch (error) {
    failures.push(new Error(`google-auth-library: ${firstLine(error)}`, { cause: error }));
    return undefined;
  }
}

/** How many calls are within {@link withoutMetadataLookupWarning}, and the `process.emitWarning` they wrap. */
const quiet: { calls: number; emitWarning?: typeof process.emitWarning } = { calls: 0 };

/**
 * Runs `work` with Node's warnings of type `MetadataLookupWarning` dropped:
 * google-auth-library emits one when its look for a metadata server fails
 * oddly, which the CLI would print before its own message; the failure is in
 * that message already. Other warnings pass, and `process.emitWarning` is
 * itself again once the last call in flight is done.
 */
async function withoutMetadataLookupWarning<T>(work: () => Promise<T>): Promise<T> {
  if (quiet.calls === 0) {
    const emitWarning = process.emitWarning;
    quiet.emitWarning = emitWarning;
    process.emitWarning = function (this: NodeJS.Process, ...args: Parameters<typeof process.emitWarning>): void {
      const [warning, options] = args as [string | Error, unknown];
      const type =
        warning instanceof Error ? warning.name : typeof options === 'string' ? options : (options as { type?: string } | undefined)?.type;
      if (type !== 'MetadataLookupWarning') emitWarning.apply(this, args);
    } as typeof process.emitWarning;
  }
  quiet.calls += 1;
  try {
    return await work();
  } finally {
    quiet.calls -= 1;
    if (quiet.calls === 0 && quiet.emitWarning) process.emitWarning = quiet.emitWarning;
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
