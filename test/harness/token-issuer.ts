import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback, readBody, sendJson } from './http.ts';
import { makeOAuthStandIn, type OAuthClient } from './oauth-stand-in.ts';
import { selfSignedCertificatePem } from './x509.ts';
import { GCLOUD_CLIENT_ID } from '../../shared/auth/identity.ts';

/**
 * A local issuer of Google-style identity tokens: RS256 JWTs with Google's
 * claims, and its certificates served the way https://www.googleapis.com/oauth2/v1/certs
 * serves them (a JSON map of key id to PEM certificate, with Cache-Control
 * max-age), so that google-auth-library verifies them unchanged.
 */
export interface TokenIssuer {
  /** e.g. `http://127.0.0.1:41234` */
  readonly url: string;
  /** The PEM certificates URL, for `OAuth2Client`'s `oauth2FederatedSignonPemCertsUrl`. */
  readonly certsUrl: string;
  /** Signs an ID token for `identity` with a published key. */
  issueIdToken(identity: IdentityRequest): string;
  /** Signs arbitrary header and payload: the tests' way to make bad tokens. */
  signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key?: 'published' | 'unpublished'): string;
  /** The claims `issueIdToken` would sign, without signing them. */
  claimsFor(identity: IdentityRequest): GoogleIdTokenClaims;
  /** How many times the certs were fetched (to observe caching). */
  readonly certFetches: number;
  /** The lifetime, in seconds, of the tokens the sign-in stand-ins give from now on (Google's are an hour). */
  signInSeconds: number;
  /**
   * Lets an OAuth client sign people in through the stand-in for Google's
   * authorization and token endpoints (`/o/oauth2/v2/auth`, `/token`, `/revoke`;
   * see oauth-stand-in.ts).
   */
  registerOAuthClient(client: OAuthClient): void;
  /** Refresh tokens the token endpoint has given and not revoked. */
  readonly liveRefreshTokens: number;
  stop(): Promise<void>;
}

export interface IdentityRequest {
  email: string;
  audience: string;
  /** `user` tokens carry an OAuth client as azp; service-account tokens carry the account's id. Default `user`. */
  kind?: 'user' | 'serviceAccount';
  /** Seconds from now; negative for an expired token. Default 3600. */
  expiresInSeconds?: number;
  emailVerified?: boolean;
  /** The `hd` claim of a Google Workspace account. */
  hostedDomain?: string;
}

export interface GoogleIdTokenClaims {
  iss: string;
  azp: string;
  aud: string;
  sub: string;
  email: string;
  email_verified: boolean;
  iat: number;
  exp: number;
  hd?: string;
}

export const GOOGLE_ISSUER = 'https://accounts.google.com';
/** What `gcloud auth print-identity-token` uses as audience and azp for a person. */
export { GCLOUD_CLIENT_ID };

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  certificatePem: string;
}

function newSigningKey(now: Date): SigningKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    kid: randomBytes(20).toString('hex'),
    privateKey,
    certificatePem: selfSignedCertificatePem({
      privateKey,
      commonName: 'local-token-issuer.allocator.test',
      notBefore: new Date(now.getTime() - 3_600_000),
      notAfter: new Date(now.getTime() + 14 * 86_400_000),
    }),
  };
}

const base64url = (value: Buffer | string): string => Buffer.from(value).toString('base64url');

/** A stable numeric subject per email, as Google's `sub` is a numeric string. */
function subjectFor(email: string): string {
  return BigInt(`0x${createHash('sha256').update(email).digest('hex').slice(0, 15)}`)
    .toString()
    .padStart(21, '1');
}

const GSI_STAND_IN = new URL('./gsi-stand-in.js', import.meta.url);

/**
 * `certsMaxAgeSeconds`: the certificates' Cache-Control max-age. `signInSeconds`:
 * the lifetime of the tokens the sign-in stand-in gives (Google's are an hour).
 */
export async function startTokenIssuer(options: { certsMaxAgeSeconds?: number; signInSeconds?: number } = {}): Promise<TokenIssuer> {
  const maxAge = options.certsMaxAgeSeconds ?? 21_600;
  let signInSeconds = options.signInSeconds ?? 3600;
  const now = new Date();
  // Google publishes two keys at a time; we sign with the first.
  const published = [newSigningKey(now), newSigningKey(now)];
  const unpublished = newSigningKey(now);
  const signingKey = published[0] as SigningKey;
  let certFetches = 0;

  const signJwt: TokenIssuer['signJwt'] = (header, payload, which = 'published') => {
    const key = which === 'published' ? signingKey : unpublished;
    const signed = `${base64url(JSON.stringify({ alg: 'RS256', kid: key.kid, typ: 'JWT', ...header }))}.${base64url(JSON.stringify(payload))}`;
    return `${signed}.${base64url(sign('sha256', Buffer.from(signed), key.privateKey))}`;
  };

  const claimsFor = (identity: IdentityRequest): GoogleIdTokenClaims => {
    const iat = Math.floor(Date.now() / 1000);
    const sub = subjectFor(identity.email);
    return {
      iss: GOOGLE_ISSUER,
      azp: identity.kind === 'serviceAccount' ? sub : GCLOUD_CLIENT_ID,
      aud: identity.audience,
      sub,
      email: identity.email,
      email_verified: identity.emailVerified ?? true,
      iat,
      exp: iat + (identity.expiresInSeconds ?? 3600),
      ...(identity.hostedDomain ? { hd: identity.hostedDomain } : {}),
    };
  };

  const issueIdToken = (identity: IdentityRequest): string => signJwt({}, { ...claimsFor(identity) });
  // A token endpoint's ID token names the signed-in client as both audience and azp.
  const oauth = makeOAuthStandIn(({ email, clientId }) =>
    signJwt({}, { ...claimsFor({ email, audience: clientId, expiresInSeconds: signInSeconds }), azp: clientId }),
  );

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => sendJson(res, 500, { error: String(error) }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://issuer').pathname;
    if (req.method === 'GET' && path === '/oauth2/v1/certs') {
      certFetches += 1;
      res.setHeader('Cache-Control', `public, max-age=${maxAge}, must-revalidate, no-transform`);
      res.setHeader('Expires', new Date(Date.now() + maxAge * 1000).toUTCString());
      sendJson(res, 200, Object.fromEntries(published.map((key) => [key.kid, key.certificatePem])));
      return;
    }
    if (req.method === 'GET' && path === '/oauth2/v3/certs') {
      res.setHeader('Cache-Control', `public, max-age=${maxAge}, must-revalidate, no-transform`);
      const keys = published.map((key) => {
        const { kty, n, e } = key.privateKey.export({ format: 'jwk' });
        return { kty, n, e, kid: key.kid, alg: 'RS256', use: 'sig' };
      });
      sendJson(res, 200, { keys });
      return;
    }
    // Local runs mint tokens here with a JSON body (`npm run local` prints how); no such endpoint exists
    // at Google. A form-encoded POST /token is the stand-in for Google's token endpoint, below.
    if (req.method === 'POST' && path === '/token' && (req.headers['content-type'] ?? '').startsWith('application/json')) {
      const body = JSON.parse(await readBody(req)) as Partial<IdentityRequest>;
      if (typeof body.email !== 'string' || typeof body.audience !== 'string') {
        sendJson(res, 400, { error: 'email and audience are required strings' });
        return;
      }
      sendJson(res, 200, { id_token: issueIdToken({ ...body, email: body.email, audience: body.audience }) });
      return;
    }
    // The sign-in stand-in: Google Identity Services' client script, and the token its form asks for.
    if (req.method === 'GET' && path === '/gsi/client') {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' });
      res.end(readFileSync(GSI_STAND_IN));
      return;
    }
    if (path === '/gsi/token') {
      res.setHeader('Access-Control-Allow-Origin', '*');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'content-type' });
        res.end();
        return;
      }
      const body = JSON.parse(await readBody(req)) as { email?: unknown; client_id?: unknown };
      if (typeof body.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(body.email) || typeof body.client_id !== 'string') {
        sendJson(res, 400, { error: 'email and client_id are required' });
        return;
      }
      const claims = {
        ...claimsFor({ email: body.email, audience: body.client_id, expiresInSeconds: signInSeconds }),
        azp: body.client_id,
      };
      sendJson(res, 200, { credential: signJwt({}, claims) });
      return;
    }
    if (await oauth.handle(req, res, path)) return;
    sendJson(res, 404, { error: `no route for ${req.method} ${path}` });
  }

  const url = await listenOnLoopback(server);
  return {
    url,
    certsUrl: `${url}/oauth2/v1/certs`,
    issueIdToken,
    signJwt,
    claimsFor,
    get certFetches() {
      return certFetches;
    },
    get signInSeconds() {
      return signInSeconds;
    },
    set signInSeconds(seconds: number) {
      signInSeconds = seconds;
    },
    registerOAuthClient: (client) => oauth.registerClient(client),
    get liveRefreshTokens() {
      return oauth.liveRefreshTokens;
    },
    stop: () => closeServer(server),
  };
}
