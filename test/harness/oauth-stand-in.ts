import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from './http.ts';

/**
 * A stand-in for Google's OAuth 2.0 endpoints as a Desktop app uses them
 * (https://developers.google.com/identity/protocols/oauth2/native-app):
 * the consent page at `GET /o/oauth2/v2/auth`, the token endpoint at
 * `POST /token` (form-encoded, `authorization_code` with PKCE and
 * `refresh_token` grants) and `POST /revoke`.
 *
 * Errors answer as Google's token endpoint does, which is RFC 6749 §5.2:
 * HTTP 400 with `{"error": "invalid_request" | "invalid_grant" |
 * "unsupported_grant_type", "error_description": "..."}`, and 401 for
 * `invalid_client`. The descriptions are Google's where we know them
 * ("Bad Request", "Missing code verifier.", "Token has been expired or revoked.").
 */
export interface OAuthClient {
  readonly clientId: string;
  /** Checked at the token endpoint when set, as Google checks a Desktop app's. */
  readonly clientSecret?: string;
}

export interface OAuthStandIn {
  registerClient(client: OAuthClient): void;
  /** Answers the request if it is one of the OAuth endpoints; false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  /** How many refresh tokens are live (not revoked). */
  readonly liveRefreshTokens: number;
}

/** What an ID token for `email` and `clientId` would say; the issuer signs it. */
export type SignIdToken = (identity: { email: string; clientId: string }) => string;

interface PendingCode {
  clientId: string;
  redirectUri: string;
  email: string;
  challenge?: string;
  method: 'S256' | 'plain';
  offline: boolean;
  scope: string;
  expiresAt: number;
  used: boolean;
  /** The refresh token it was exchanged for, revoked if the code is replayed (RFC 6749 §4.1.2). */
  refreshToken?: string;
}

interface Grant {
  clientId: string;
  email: string;
  scope: string;
}

/** Google's authorization codes live minutes at most; ours a minute, which is plenty for a redirect. */
const CODE_LIFETIME_MS = 60_000;
const ACCESS_TOKEN_SECONDS = 3599;
const EMAIL = /^[^@\s]+@[^@\s]+$/;

class OAuthRefusal extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, description: string) {
    super(description);
    this.status = status;
    this.code = code;
  }
}

function refuse(code: string, description: string, status = 400): never {
  throw new OAuthRefusal(status, code, description);
}

export function makeOAuthStandIn(sign: SignIdToken): OAuthStandIn {
  const clients = new Map<string, OAuthClient>();
  const codes = new Map<string, PendingCode>();
  const refreshTokens = new Map<string, Grant>();

  /** The authorization request's own checks: Google shows an error page for these rather than redirecting. */
  function checkAuthorizationRequest(params: URLSearchParams): { client: OAuthClient; redirectUri: string } {
    const client = clients.get(params.get('client_id') ?? '');
    if (client === undefined) refuse('invalid_client', 'The OAuth client was not found.', 401);
    const redirectUri = params.get('redirect_uri') ?? '';
    // A Desktop app may redirect to any port of the loopback interface (RFC 8252 §7.3).
    const redirect = URL.canParse(redirectUri) ? new URL(redirectUri) : undefined;
    if (redirect?.protocol !== 'http:' || !['127.0.0.1', '[::1]', 'localhost'].includes(redirect.hostname))
      refuse('redirect_uri_mismatch', `redirect_uri must be a loopback http URL (got "${redirectUri}")`);
    if (params.get('response_type') !== 'code') refuse('unsupported_response_type', 'response_type must be code');
    const method = params.get('code_challenge_method') ?? 'plain';
    if (method !== 'S256' && method !== 'plain') refuse('invalid_request', `Invalid code_challenge_method: ${method}`);
    return { client: client as OAuthClient, redirectUri };
  }

  function consentPage(res: ServerResponse, params: URLSearchParams): void {
    const hidden = [...params].map(([key, value]) => `<input type="hidden" name="${escape(key)}" value="${escape(value)}">`).join('');
    const hint = params.get('login_hint') ?? '';
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`<!doctype html><title>Sign in - local stand-in for Google</title>
<form method="post">${hidden}
<p><label>Email <input name="email" type="email" value="${escape(hint)}" required></label></p>
<p><button name="decision" value="allow">Allow</button> <button name="decision" value="deny" formnovalidate>Cancel</button></p>
</form>`);
  }

  /** The consent form's answer: a real 302 back to the loopback redirect with `code` and `state` (or `error`). */
  function decide(res: ServerResponse, params: URLSearchParams): void {
    const { client, redirectUri } = checkAuthorizationRequest(params);
    const target = new URL(redirectUri);
    const state = params.get('state');
    if (state !== null) target.searchParams.set('state', state);
    const email = params.get('email') ?? '';
    if (params.get('decision') !== 'allow') target.searchParams.set('error', 'access_denied');
    else if (!EMAIL.test(email)) refuse('invalid_request', 'an email is required');
    else {
      const code = `4/0${randomBytes(24).toString('base64url')}`;
      const challenge = params.get('code_challenge') ?? undefined;
      codes.set(code, {
        clientId: client.clientId,
        redirectUri,
        email,
        ...(challenge === undefined ? {} : { challenge }),
        method: (params.get('code_challenge_method') ?? 'plain') as 'S256' | 'plain',
        offline: params.get('access_type') === 'offline',
        scope: params.get('scope') ?? '',
        expiresAt: Date.now() + CODE_LIFETIME_MS,
        used: false,
      });
      target.searchParams.set('code', code);
      target.searchParams.set('scope', params.get('scope') ?? '');
    }
    res.writeHead(302, { Location: target.toString(), 'Cache-Control': 'no-store' });
    res.end();
  }

  function authenticateClient(params: URLSearchParams): OAuthClient {
    const clientId = params.get('client_id');
    if (clientId === null) refuse('invalid_request', 'Could not determine client ID from request.');
    const client = clients.get(clientId as string);
    if (client === undefined) refuse('invalid_client', 'The OAuth client was not found.', 401);
    const secret = params.get('client_secret');
    if (client?.clientSecret !== undefined) {
      if (secret === null) refuse('invalid_request', 'client_secret is missing.');
      if (!sameText(secret as string, client.clientSecret)) refuse('invalid_client', 'Unauthorized', 401);
    }
    return client as OAuthClient;
  }

  function tokenAnswer(grant: Grant, refreshToken?: string): Record<string, unknown> {
    const scopes = grant.scope.split(' ').filter(Boolean);
    return {
      access_token: `ya29.local-${randomBytes(24).toString('base64url')}`,
      expires_in: ACCESS_TOKEN_SECONDS,
      token_type: 'Bearer',
      // Google names the email scope by its URL in the answer.
      scope: scopes.map((scope) => (scope === 'email' ? 'https://www.googleapis.com/auth/userinfo.email' : scope)).join(' '),
      ...(scopes.includes('openid') ? { id_token: sign({ email: grant.email, clientId: grant.clientId }) } : {}),
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
    };
  }

  function token(params: URLSearchParams): Record<string, unknown> {
    const grantType = params.get('grant_type');
    if (grantType === null) refuse('invalid_request', 'Missing required parameter: grant_type');
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token')
      refuse('unsupported_grant_type', `Invalid grant_type: ${grantType}`);
    const client = authenticateClient(params);
    if (grantType === 'refresh_token') {
      const refreshToken = params.get('refresh_token');
      if (refreshToken === null) refuse('invalid_request', 'Missing required parameter: refresh_token');
      const grant = refreshTokens.get(refreshToken as string);
      if (grant === undefined || grant.clientId !== client.clientId) refuse('invalid_grant', 'Token has been expired or revoked.');
      return tokenAnswer(grant as Grant);
    }
    const code = params.get('code');
    if (code === null) refuse('invalid_request', 'Missing required parameter: code');
    const pending = codes.get(code as string);
    if (pending === undefined) return refuse('invalid_grant', 'Malformed auth code.');
    if (pending.used) {
      if (pending.refreshToken !== undefined) refreshTokens.delete(pending.refreshToken);
      refuse('invalid_grant', 'Bad Request');
    }
    pending.used = true;
    if (pending.expiresAt < Date.now()) refuse('invalid_grant', 'Bad Request');
    if (pending.clientId !== client.clientId) refuse('invalid_grant', 'Bad Request');
    if (params.get('redirect_uri') !== pending.redirectUri) refuse('redirect_uri_mismatch', 'Bad Request');
    if (pending.challenge !== undefined) {
      const verifier = params.get('code_verifier');
      if (verifier === null) refuse('invalid_grant', 'Missing code verifier.');
      const expected =
        pending.method === 'S256'
          ? createHash('sha256')
              .update(verifier as string, 'ascii')
              .digest('base64url')
          : verifier;
      if (!sameText(expected as string, pending.challenge)) refuse('invalid_grant', 'Invalid code verifier.');
    }
    const grant: Grant = { clientId: pending.clientId, email: pending.email, scope: pending.scope };
    let refreshToken: string | undefined;
    if (pending.offline) {
      refreshToken = `1//0${randomBytes(32).toString('base64url')}`;
      refreshTokens.set(refreshToken, grant);
      pending.refreshToken = refreshToken;
    }
    return tokenAnswer(grant, refreshToken);
  }

  async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('application/x-www-form-urlencoded'))
      refuse('invalid_request', 'the body must be application/x-www-form-urlencoded');
    return new URLSearchParams(await readBody(req));
  }

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const method = req.method ?? 'GET';
    const isAuth = path === '/o/oauth2/v2/auth' && (method === 'GET' || method === 'POST');
    const isToken = path === '/token' && method === 'POST';
    const isRevoke = path === '/revoke' && method === 'POST';
    if (!isAuth && !isToken && !isRevoke) return false;
    try {
      if (isAuth && method === 'GET') {
        const params = new URL(req.url ?? '/', 'http://issuer').searchParams;
        checkAuthorizationRequest(params);
        consentPage(res, params);
      } else if (isAuth) decide(res, await formOf(req));
      else if (isToken) {
        res.setHeader('Cache-Control', 'no-store');
        sendJson(res, 200, token(await formOf(req)));
      } else {
        const revoked = refreshTokens.delete((await formOf(req)).get('token') ?? '');
        if (revoked) sendJson(res, 200, {});
        else refuse('invalid_token', 'Token expired or revoked');
      }
    } catch (error) {
      if (!(error instanceof OAuthRefusal)) throw error;
      if (isAuth) {
        res.writeHead(error.status, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><title>Error ${error.status}: ${escape(error.code)}</title><p>${escape(error.message)}</p>`);
      } else sendJson(res, error.status, { error: error.code, error_description: error.message });
    }
    return true;
  }

  return {
    registerClient: (client) => void clients.set(client.clientId, client),
    handle,
    get liveRefreshTokens() {
      return refreshTokens.size;
    },
  };
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
