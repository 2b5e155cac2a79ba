import { signInSettingsOf, type SignInSettings } from '../shared/api/sign-in.ts';
import { fetchOpenApiDocument } from './openapi-document.ts';
import type { PkcePair } from './pkce.ts';

/** What `allocator login` asks for: an ID token with the person's email, and a refresh token to mint more. */
export const LOGIN_SCOPE = 'openid email';

/**
 * An error answered by the token endpoint (RFC 6749 §5.2: HTTP 400, or 401
 * for `invalid_client`, with `{"error": ..., "error_description": ...}`), or
 * the failure to reach it.
 */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  /** `invalid_grant`, `invalid_client`, ...; `unavailable` when no answer came, `invalid_answer` for one that is not a token response. */
  readonly code: string;

  constructor(status: number, code: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.status = status;
    this.code = code;
  }
}

/** The token endpoint's answer (Google's: `access_token`, `expires_in`, `token_type`, `scope`, `id_token`, and `refresh_token` for an offline code). */
export interface TokenResponse {
  readonly idToken: string;
  readonly refreshToken?: string;
}

/** The sign-in settings the allocator publishes at its list function's `/openapi.json`, which needs no token. */
export async function fetchSignInSettings(listUrl: string, fetchImpl: typeof fetch = fetch): Promise<SignInSettings | undefined> {
  return signInSettingsOf(await fetchOpenApiDocument(listUrl, fetchImpl));
}

/**
 * The URL of Google's consent page for a Desktop app (RFC 8252 §7.3 loopback
 * redirect, RFC 7636 S256): `access_type=offline` and `prompt=consent` make
 * Google give a refresh token on every sign-in, not only the first.
 */
export function authorizationUrl(
  settings: SignInSettings,
  request: { redirectUri: string; state: string; pkce: PkcePair; loginHint?: string },
): string {
  const url = new URL(settings.authorizationEndpoint);
  const params: Record<string, string> = {
    client_id: settings.clientId,
    redirect_uri: request.redirectUri,
    response_type: 'code',
    scope: LOGIN_SCOPE,
    code_challenge: request.pkce.challenge,
    code_challenge_method: request.pkce.method,
    state: request.state,
    access_type: 'offline',
    prompt: 'consent',
    ...(request.loginHint ? { login_hint: request.loginHint } : {}),
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

/** Exchanges the code from the loopback redirect for tokens (`grant_type=authorization_code`, with the PKCE verifier). */
export async function exchangeCode(
  settings: SignInSettings,
  request: { code: string; redirectUri: string; verifier: string },
  fetchImpl: typeof fetch = fetch,
): Promise<TokenResponse> {
  return await tokenRequest(
    settings,
    { grant_type: 'authorization_code', code: request.code, redirect_uri: request.redirectUri, code_verifier: request.verifier },
    fetchImpl,
  );
}

/** A fresh ID token, whose audience is the client id, from the refresh token (Google answers an `id_token` for the `openid` scope). */
export async function refreshIdToken(
  settings: SignInSettings,
  refreshToken: string,
  fetchImpl: typeof fetch = fetch,
): Promise<TokenResponse> {
  return await tokenRequest(settings, { grant_type: 'refresh_token', refresh_token: refreshToken }, fetchImpl);
}

/** Revokes a refresh token (Google: `POST /revoke` with `token`); true when the server took it. */
export async function revokeToken(endpoint: string, token: string, fetchImpl: typeof fetch = fetch): Promise<boolean> {
  const response = await fetchImpl(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
    signal: AbortSignal.timeout(30_000),
  });
  return response.ok;
}

async function tokenRequest(settings: SignInSettings, grant: Record<string, string>, fetchImpl: typeof fetch): Promise<TokenResponse> {
  const body = new URLSearchParams({
    ...grant,
    client_id: settings.clientId,
    ...(settings.clientSecret === undefined ? {} : { client_secret: settings.clientSecret }),
  });
  let response: Response;
  try {
    response = await fetchImpl(settings.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new OAuthError(0, 'unavailable', `cannot reach ${settings.tokenEndpoint}: ${(error as Error).message}`, { cause: error });
  }
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null) json = parsed as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const code = typeof json?.error === 'string' ? json.error : `http_${response.status}`;
    const description = typeof json?.error_description === 'string' ? `: ${json.error_description}` : '';
    throw new OAuthError(response.status, code, `the token endpoint refused (${response.status} ${code}${description})`);
  }
  if (typeof json?.id_token !== 'string') {
    throw new OAuthError(response.status, 'invalid_answer', 'the token endpoint answered no id_token (was the openid scope granted?)');
  }
  return { idToken: json.id_token, ...(typeof json.refresh_token === 'string' ? { refreshToken: json.refresh_token } : {}) };
}

/** The claims of a JWT, unverified: for its `exp` and `email`, from a token that came straight from the token endpoint. */
export function jwtClaims(token: string): Record<string, unknown> {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown;
    return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
