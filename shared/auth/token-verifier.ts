import { OAuth2Client } from 'google-auth-library';
import { PermissionDeniedError, UnauthenticatedError, UnavailableError } from '../errors.ts';
import { identityFromClaims, type CallerIdentity } from './identity.ts';
import { decodeJwt, SIGNATURE_REMOVED, type DecodedJwt } from './jwt.ts';

/**
 * How a function learns who calls it:
 * - `verify` (default): the function verifies the token's signature itself
 *   against Google's certificates, whether or not Cloud Run's IAM check runs.
 * - `trust-cloud-run-iam`: Cloud Run's IAM check has verified the token and
 *   removed its signature; the function reads the claims and checks them.
 */
export const AUTH_MODES = ['verify', 'trust-cloud-run-iam'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export const GOOGLE_CERTS_URL = 'https://www.googleapis.com/oauth2/v1/certs';
export const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'] as const;

/** The request headers a verifier reads, lower-cased as Node gives them. */
export type AuthHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface TokenVerifierOptions {
  /** Audiences a token may be for (the functions' URLs or custom audience, and gcloud's client id for people). */
  audiences: readonly string[];
  mode: AuthMode;
  /** Where Google's PEM certificates are; default Google's own. */
  certsUrl?: string;
  /** Clock for the trust mode's expiry check; default `Date.now`. */
  now?: () => number;
}

export interface TokenVerifier {
  /** The caller, or a 401 (no or bad token) or 403 (email not verified). */
  verify(headers: AuthHeaders): Promise<CallerIdentity>;
  /** Fetches what `verify` checks signatures against (Google's certificates), ahead of the first token; nothing in the trust mode. */
  warmUp(): Promise<void>;
}

/** Seconds of clock skew tolerated, as google-auth-library allows. */
const CLOCK_SKEW_SECONDS = 300;

/** How many verified tokens are remembered: a caller sends the same token for up to an hour. */
const VERIFIED_TOKENS_KEPT = 1000;

/**
 * Tokens whose signature google-auth-library has checked, with their claims,
 * so that a caller's next request with the same token skips parsing Google's
 * certificate and the RSA check. Keyed by the whole token, signature
 * included; only successes are kept, and every request still checks the
 * claims, expiry included, against the clock.
 */
function verifiedTokens(): {
  get(token: string): Record<string, unknown> | undefined;
  add(token: string, payload: Record<string, unknown>): void;
} {
  const kept = new Map<string, Record<string, unknown>>();
  return {
    get: (token) => kept.get(token),
    add: (token, payload) => {
      if (kept.size >= VERIFIED_TOKENS_KEPT) kept.delete(kept.keys().next().value as string);
      kept.set(token, payload);
    },
  };
}

export function makeTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  if (options.audiences.length === 0) throw new Error('a token verifier needs at least one audience');
  let client: OAuth2Client | undefined;
  const oauthClient = (): OAuth2Client =>
    (client ??= new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: options.certsUrl ?? GOOGLE_CERTS_URL } }));
  const now = options.now ?? Date.now;
  const verified = verifiedTokens();

  return {
    async warmUp() {
      if (options.mode === 'verify') await oauthClient().getFederatedSignonCertsAsync();
    },
    async verify(headers) {
      const token = selectToken(headers, options.mode);
      const decoded = decodeJwt(token);
      if (options.mode === 'trust-cloud-run-iam' && decoded.signature === SIGNATURE_REMOVED) {
        return identityFrom(checkClaims(decoded.payload, options.audiences, now()));
      }
      if (decoded.signature === SIGNATURE_REMOVED) {
        throw new UnauthenticatedError(
          "the token's signature was removed by Cloud Run's IAM check, and this function verifies signatures itself: send the IAM token in X-Serverless-Authorization and your token in Authorization",
        );
      }
      if (decoded.header.alg !== 'RS256')
        throw new UnauthenticatedError(`token algorithm ${String(decoded.header.alg)} is not accepted; Google ID tokens use RS256`);
      const known = verified.get(token);
      if (known) return identityFrom(checkClaims(known, options.audiences, now()));
      let payload: Record<string, unknown> | undefined;
      try {
        const ticket = await oauthClient().verifyIdToken({ idToken: token, audience: [...options.audiences] });
        payload = ticket.getPayload() as Record<string, unknown> | undefined;
      } catch (error) {
        throw describeVerificationFailure(error);
      }
      if (!payload) throw new UnauthenticatedError('token has no payload');
      const identity = identityFrom(checkClaims(payload, options.audiences, now()));
      verified.add(token, payload);
      return identity;
    },
  };
}

/**
 * Picks the token to read. Cloud Run's IAM check uses X-Serverless-Authorization
 * when present and passes Authorization through untouched, so in `verify` mode
 * Authorization wins; in `trust-cloud-run-iam` mode the IAM-checked header wins.
 */
export function selectToken(headers: AuthHeaders, mode: AuthMode): string {
  const authorization = bearer(headers.authorization);
  const serverless = bearer(headers['x-serverless-authorization']);
  const token = mode === 'verify' ? (authorization ?? serverless) : (serverless ?? authorization);
  if (token === undefined) throw new UnauthenticatedError('missing bearer token: send "Authorization: Bearer <Google ID token>"');
  return token;
}

function bearer(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(text);
  if (!match) throw new UnauthenticatedError('malformed Authorization header: expected "Bearer <token>"');
  return match[1];
}

interface CheckedClaims {
  email: string;
  sub: string;
  hd?: string;
  aud: string;
}

/** The claim checks both modes share: issuer, audience, time, verified email. */
export function checkClaims(payload: Readonly<Record<string, unknown>>, audiences: readonly string[], nowMs: number): CheckedClaims {
  const { iss, aud, exp, iat, email, email_verified: emailVerified, sub, hd } = payload;
  if (typeof iss !== 'string' || !(GOOGLE_ISSUERS as readonly string[]).includes(iss))
    throw new UnauthenticatedError('token is not issued by Google');
  if (typeof aud !== 'string' || !audiences.includes(aud))
    throw new UnauthenticatedError('token audience is not accepted by this allocator');
  const nowSeconds = nowMs / 1000;
  if (typeof exp !== 'number' || nowSeconds > exp + CLOCK_SKEW_SECONDS) throw new UnauthenticatedError('token has expired');
  if (typeof iat !== 'number' || nowSeconds < iat - CLOCK_SKEW_SECONDS) throw new UnauthenticatedError('token is not valid yet');
  if (typeof sub !== 'string' || sub === '') throw new UnauthenticatedError('token has no subject');
  if (typeof email !== 'string' || email === '')
    throw new UnauthenticatedError(
      'token has no email claim; request an ID token that includes the email (for service accounts, --include-email)',
    );
  if (emailVerified !== true && emailVerified !== 'true') throw new PermissionDeniedError(`email ${email} is not verified`);
  return { email, sub, aud, ...(typeof hd === 'string' && hd !== '' ? { hd } : {}) };
}

function identityFrom(claims: CheckedClaims): CallerIdentity {
  return identityFromClaims(claims);
}

/**
 * google-auth-library's messages embed the whole token; these replace them
 * with a reason that is safe to answer and to log.
 */
export function describeVerificationFailure(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith('Failed to retrieve verification certificates')) {
    return new UnavailableError("cannot fetch Google's token certificates; try again", { cause: new Error(message.slice(0, 200)) });
  }
  const reasons: [RegExp, string][] = [
    [/^Wrong recipient/, 'token audience is not accepted by this allocator'],
    [/^Token used too late/, 'token has expired'],
    [/^Token used too early/, 'token is not valid yet'],
    [/^Expiration time too far in future/, 'token lifetime is too long'],
    [/^Invalid token signature/, 'token signature is invalid'],
    [/^No pem found/, 'token is signed by an unknown key'],
    [/^Invalid issuer/, 'token is not issued by Google'],
    [/^Wrong number of segments/, 'malformed token'],
    [/^Can't parse token/, 'malformed token'],
    [/^No (issue|expiration) time/, 'token lacks iat or exp'],
  ];
  const reason = reasons.find(([pattern]) => pattern.test(message))?.[1] ?? 'token could not be verified';
  return new UnauthenticatedError(reason);
}

export type { DecodedJwt };
