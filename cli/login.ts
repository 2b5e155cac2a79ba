// `allocator login` and `allocator logout`: a person signs in with the allocator's own OAuth client.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { allocatorEndpoints } from '../client/allocator-url.ts';
import { LoginStore } from '../client/login-store.ts';
import { authorizationUrl, exchangeCode, fetchSignInSettings, jwtClaims, revokeToken } from '../client/oauth.ts';
import { makePkcePair, makeState } from '../client/pkce.ts';
import { interruptSignal, UsageError, type Command } from './command.ts';
import { formatError } from './format.ts';

/** How long login waits for the browser to come back to the loopback redirect. */
const LOGIN_TIMEOUT_MS = 300_000;

/** The allocator value a command names, normalized as the typed client keys its tokens. */
function allocatorOf(allocator: string | undefined): string {
  if (!allocator) throw new UsageError('no allocator named: pass --allocator URL or set ALLOCATOR');
  try {
    return allocatorEndpoints(allocator).audience;
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
}

/** What the browser sends back to the loopback redirect. */
interface Redirect {
  code?: string;
  state?: string;
  error?: string;
}

/**
 * A one-shot listener on 127.0.0.1 and a port the system picks (RFC 8252
 * §7.3: loopback IP literal, any port; Google accepts any port for a Desktop
 * app's client). It settles on the first request carrying `code` or `error`
 * with the sign-in's `state`. Any local process, or any page in the browser,
 * can reach the port: a request with another state or none is answered 400
 * and ignored, and the sign-in goes on waiting (RFC 6749 §10.12).
 */
export async function startLoopback(state: string): Promise<{ redirectUri: string; redirect: Promise<Redirect>; close: () => void }> {
  let settle: (redirect: Redirect) => void = () => undefined;
  const redirect = new Promise<Redirect>((resolve) => (settle = resolve));
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const params = Object.fromEntries(url.searchParams) as Redirect;
    if (req.method !== 'GET' || url.pathname !== '/' || (params.code === undefined && params.error === undefined)) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (params.state !== state) {
      res
        .writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        .end(
          '<!doctype html><title>allocator login</title><p>This answer is not from this sign-in, so it was ignored; sign in from the page <code>allocator login</code> opened.</p>\n',
        );
      return;
    }
    const ok = params.code !== undefined;
    res
      .writeHead(ok ? 200 : 400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      .end(
        `<!doctype html><title>allocator login</title><p>${ok ? 'Signed in. You can close this tab and return to the terminal.' : 'Sign-in did not complete; see the terminal.'}</p>\n`,
      );
    settle(params);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the loopback listener has no port');
  return {
    redirectUri: `http://127.0.0.1:${address.port}/`,
    redirect,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Opens the system browser (`open` on macOS, `xdg-open` elsewhere); false when there is none to open. */
async function openBrowser(url: string): Promise<boolean> {
  const command = process.platform === 'darwin' ? 'open' : 'xdg-open';
  return await new Promise((resolve) => {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

async function login(options: { allocator: string; browser: boolean; store: LoginStore }): Promise<number> {
  const endpoints = allocatorEndpoints(options.allocator);
  const settings = await fetchSignInSettings(endpoints.list);
  if (settings === undefined) {
    console.error(
      `allocator: ${options.allocator} publishes no sign-in client (its deployment sets no ALLOCATOR_CLI_CLIENT_ID): use gcloud auth login, or --token`,
    );
    return 1;
  }
  const pkce = makePkcePair();
  const state = makeState();
  const loopback = await startLoopback(state);
  try {
    const url = authorizationUrl(settings, { redirectUri: loopback.redirectUri, state, pkce });
    const opened = options.browser && (await openBrowser(url));
    process.stderr.write(
      `${opened ? 'Your browser has been opened to sign in. If it did not open, visit' : 'To sign in, open this URL in a browser on this machine'}:\n\n    ${url}\n\n`,
    );
    const signal = AbortSignal.any([interruptSignal(), AbortSignal.timeout(LOGIN_TIMEOUT_MS)]);
    const redirect = await new Promise<Redirect>((resolve, reject) => {
      signal.addEventListener('abort', () => reject(new Error('no answer from the browser; sign-in abandoned')), { once: true });
      void loopback.redirect.then(resolve);
    });
    if (redirect.error !== undefined) throw new Error(`sign-in refused: ${redirect.error}`);
    const tokens = await exchangeCode(settings, {
      code: redirect.code as string,
      redirectUri: loopback.redirectUri,
      verifier: pkce.verifier,
    });
    if (tokens.refreshToken === undefined) throw new Error('the token endpoint gave no refresh token');
    const email = jwtClaims(tokens.idToken).email;
    options.store.set(options.allocator, {
      ...settings,
      refreshToken: tokens.refreshToken,
      ...(typeof email === 'string' ? { email } : {}),
    });
    console.log(`Signed in to ${options.allocator}${typeof email === 'string' ? ` as ${email}` : ''}.`);
    return 0;
  } finally {
    loopback.close();
  }
}

async function logout(options: { allocator: string; store: LoginStore }): Promise<number> {
  const login = options.store.delete(options.allocator);
  if (login === undefined) {
    console.log(`Not signed in to ${options.allocator}.`);
    return 0;
  }
  if (login.revocationEndpoint !== undefined) {
    // Forgotten here either way; a refresh token the server did not revoke only lapses when unused.
    const revoked = await revokeToken(login.revocationEndpoint, login.refreshToken).catch((error: unknown) => {
      console.error(`allocator: could not revoke the refresh token: ${formatError(error)}`);
      return true;
    });
    if (!revoked) console.error('allocator: the server did not revoke the refresh token (already revoked?)');
  }
  console.log(`Signed out of ${options.allocator}${login.email ? ` (${login.email})` : ''}.`);
  return 0;
}

export const LOGIN_COMMANDS: Record<string, Command> = {
  login: {
    summary: "Sign in with the allocator's own Google client, as gcloud auth login does",
    usage: `usage: allocator login [--no-browser]

Signs you in with the allocator's own OAuth client: opens your browser at
Google's consent page (--no-browser prints the URL instead), takes the answer
on a loopback redirect to 127.0.0.1, and keeps a refresh token in
$XDG_CONFIG_HOME/allocator/ (default ~/.config/allocator/), readable only by
you. Later commands against this allocator send ID tokens minted from it,
which no other service accepts. 'allocator logout' forgets it.`,
    options: { 'no-browser': { type: 'boolean' } },
    run: async ({ values, allocator }) =>
      await login({ allocator: allocatorOf(allocator), browser: values['no-browser'] !== true, store: new LoginStore() }),
  },
  logout: {
    summary: 'Forget (and revoke) the sign-in of allocator login',
    usage: `usage: allocator logout

Forgets the refresh token 'allocator login' kept for this allocator and
revokes it. Later commands use --token, google-auth-library or gcloud.`,
    options: {},
    run: async ({ allocator }) => await logout({ allocator: allocatorOf(allocator), store: new LoginStore() }),
  },
};
