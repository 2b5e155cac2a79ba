import { X509Certificate } from 'node:crypto';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTokenVerifier, type TokenVerifier } from '../../../shared/auth/token-verifier.ts';
import { startTokenIssuer, type TokenIssuer } from '../../harness/token-issuer.ts';

const audience = 'https://allocator.test';
let issuer: TokenIssuer;
let verifier: TokenVerifier;

beforeAll(async () => {
  issuer = await startTokenIssuer();
  verifier = makeTokenVerifier({ audiences: [audience], mode: 'verify', certsUrl: issuer.certsUrl });
});
afterAll(async () => issuer.stop());

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const withSignature = (token: string, signature: string): string => `${token.split('.').slice(0, 2).join('.')}.${signature}`;

describe('local token issuer', () => {
  it("serves X.509 certificates in Google's PEM map with Cache-Control max-age", async () => {
    const response = await fetch(issuer.certsUrl);
    expect(response.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const certs = (await response.json()) as Record<string, string>;
    expect(Object.keys(certs)).toHaveLength(2);
    for (const pem of Object.values(certs)) {
      const certificate = new X509Certificate(pem);
      expect(certificate.verify(certificate.publicKey)).toBe(true); // self-signed and well formed
    }
  });

  it("issues tokens that google-auth-library verifies with the issuer's certs URL", async () => {
    const client = new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: issuer.certsUrl } });
    const ticket = await client.verifyIdToken({ idToken: issuer.issueIdToken({ email: 'ada@example.com', audience }), audience });
    expect(ticket.getPayload()).toMatchObject({
      iss: 'https://accounts.google.com',
      aud: audience,
      email: 'ada@example.com',
      email_verified: true,
    });
  });

  it.each([
    ['a user', 'ada@example.com', 'user'],
    ['a service account', 'scheduler@proj.iam.gserviceaccount.com', 'serviceAccount'],
  ] as const)('accepts a valid token of %s', async (_label, email, kind) => {
    const identity = await verifier.verify(bearer(issuer.issueIdToken({ email, audience, kind })));
    expect(identity).toEqual({ email, subject: issuer.claimsFor({ email, audience }).sub, kind });
  });

  it('caches the certificates for their max-age', async () => {
    const before = issuer.certFetches;
    for (let i = 0; i < 3; i += 1) await verifier.verify(bearer(issuer.issueIdToken({ email: 'ada@example.com', audience })));
    expect(issuer.certFetches - before).toBeLessThanOrEqual(1);
  });

  it("checks a token's signature once, and its claims on every use", async () => {
    // Certificates that may not be cached: every signature check fetches them.
    const uncached = await startTokenIssuer({ certsMaxAgeSeconds: 0 });
    try {
      let nowMs = Date.now();
      const checking = makeTokenVerifier({ audiences: [audience], mode: 'verify', certsUrl: uncached.certsUrl, now: () => nowMs });
      const token = uncached.issueIdToken({ email: 'ada@example.com', audience, expiresInSeconds: 600 });
      for (let i = 0; i < 3; i += 1) expect(await checking.verify(bearer(token))).toMatchObject({ email: 'ada@example.com' });
      expect(uncached.certFetches).toBe(1);
      // The same claims under another signature are checked, and refused.
      const [header, payload] = token.split('.');
      await expect(checking.verify(bearer(`${header}.${payload}.${Buffer.from('forged').toString('base64url')}`))).rejects.toMatchObject({
        status: 401,
      });
      expect(uncached.certFetches).toBe(2);
      // Once expired (with the skew allowed), the remembered token is refused too.
      nowMs += (600 + 301) * 1000;
      await expect(checking.verify(bearer(token))).rejects.toThrow(/expired/);
    } finally {
      await uncached.stop();
    }
  });

  const refusals: [string, () => string, RegExp][] = [
    ['a wrong audience', () => issuer.issueIdToken({ email: 'ada@example.com', audience: 'https://other.test' }), /audience/],
    ['an expired token', () => issuer.issueIdToken({ email: 'ada@example.com', audience, expiresInSeconds: -3600 }), /expired/],
    [
      'a token signed by another key',
      () => issuer.signJwt({}, { ...issuer.claimsFor({ email: 'ada@example.com', audience }) }, 'unpublished'),
      /unknown key/,
    ],
    [
      'alg: none',
      () => withSignature(issuer.signJwt({ alg: 'none' }, { ...issuer.claimsFor({ email: 'ada@example.com', audience }) }), ''),
      /algorithm none/,
    ],
    [
      'an edited payload',
      () => {
        const [header, , signature] = issuer.issueIdToken({ email: 'ada@example.com', audience }).split('.');
        const forged = Buffer.from(JSON.stringify(issuer.claimsFor({ email: 'admin@example.com', audience }))).toString('base64url');
        return `${header}.${forged}.${signature}`;
      },
      /signature is invalid/,
    ],
    [
      'a signature removed by Cloud Run',
      () => withSignature(issuer.issueIdToken({ email: 'ada@example.com', audience }), 'SIGNATURE_REMOVED_BY_GOOGLE'),
      /signature was removed/,
    ],
    ['a token that is not a JWT', () => 'not-a-token', /malformed/],
  ];

  it.each(refusals)('refuses %s with a 401 that does not echo the token', async (_label, makeToken, reason) => {
    const token = makeToken();
    const error = await verifier.verify(bearer(token)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 401, statusName: 'UNAUTHENTICATED' });
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).message).not.toContain(token.split('.')[1] ?? token);
  });

  it('refuses an unverified email with 403', async () => {
    const error = await verifier
      .verify(bearer(issuer.issueIdToken({ email: 'ada@example.com', audience, emailVerified: false })))
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 403 });
  });

  it('trusts a Cloud Run-checked token only in the trust mode, and still checks its claims', async () => {
    const trusting = makeTokenVerifier({ audiences: [audience], mode: 'trust-cloud-run-iam', certsUrl: issuer.certsUrl });
    const stripped = withSignature(issuer.issueIdToken({ email: 'ada@example.com', audience }), 'SIGNATURE_REMOVED_BY_GOOGLE');
    expect(await trusting.verify({ 'x-serverless-authorization': `Bearer ${stripped}` })).toMatchObject({ email: 'ada@example.com' });
    const otherAudience = withSignature(
      issuer.issueIdToken({ email: 'ada@example.com', audience: 'https://other.test' }),
      'SIGNATURE_REMOVED_BY_GOOGLE',
    );
    await expect(trusting.verify(bearer(otherAudience))).rejects.toMatchObject({ status: 401 });
  });
});

describe("the token issuer's stand-in for Google's OAuth endpoints", () => {
  const client = { clientId: 'cli.test', clientSecret: 'secret' };
  const redirectUri = 'http://127.0.0.1:9/';
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
  beforeAll(() => issuer.registerOAuthClient(client));

  const authorize = (extra: Record<string, string> = {}): URLSearchParams =>
    new URLSearchParams({
      client_id: client.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'openid email',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'st',
      access_type: 'offline',
      ...extra,
    });

  /** Approves the consent form as ada and returns the code from the 302 to the loopback redirect. */
  async function code(extra: Record<string, string> = {}): Promise<string> {
    const response = await fetch(`${issuer.url}/o/oauth2/v2/auth`, {
      method: 'POST',
      body: new URLSearchParams({ ...Object.fromEntries(authorize(extra)), email: 'ada@example.com', decision: 'allow' }),
      redirect: 'manual',
    });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.origin + location.pathname).toBe(redirectUri);
    expect(location.searchParams.get('state')).toBe('st');
    return location.searchParams.get('code') ?? '';
  }

  const token = async (form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${issuer.url}/token`, { method: 'POST', body: new URLSearchParams(form) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const exchange = (theCode: string, extra: Record<string, string> = {}): ReturnType<typeof token> =>
    token({
      grant_type: 'authorization_code',
      code: theCode,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: client.clientId,
      client_secret: client.clientSecret,
      ...extra,
    });

  it('shows a consent page for a known client and a loopback redirect, and an error page otherwise', async () => {
    const page = await fetch(`${issuer.url}/o/oauth2/v2/auth?${authorize().toString()}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Allow');
    expect((await fetch(`${issuer.url}/o/oauth2/v2/auth?${authorize({ client_id: 'nobody' }).toString()}`)).status).toBe(401);
    expect((await fetch(`${issuer.url}/o/oauth2/v2/auth?${authorize({ redirect_uri: 'https://evil.test/' }).toString()}`)).status).toBe(
      400,
    );
  });

  it('redirects a refusal with error=access_denied and the state', async () => {
    const response = await fetch(`${issuer.url}/o/oauth2/v2/auth`, {
      method: 'POST',
      body: new URLSearchParams({ ...Object.fromEntries(authorize()), decision: 'deny' }),
      redirect: 'manual',
    });
    expect(Object.fromEntries(new URL(response.headers.get('location') ?? '').searchParams)).toEqual({
      state: 'st',
      error: 'access_denied',
    });
  });

  it('answers a code as Google does: an ID token for the client, a refresh token, and ID tokens from the refresh token', async () => {
    const first = await exchange(await code());
    expect(first).toMatchObject({
      status: 200,
      body: { token_type: 'Bearer', expires_in: 3599, scope: 'openid https://www.googleapis.com/auth/userinfo.email' },
    });
    const verifying = makeTokenVerifier({ audiences: [client.clientId], mode: 'verify', certsUrl: issuer.certsUrl });
    expect(await verifying.verify(bearer(first.body.id_token as string))).toMatchObject({ email: 'ada@example.com' });
    const refreshed = await token({
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
      client_id: client.clientId,
      client_secret: client.clientSecret,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).not.toHaveProperty('refresh_token');
    expect(await verifying.verify(bearer(refreshed.body.id_token as string))).toMatchObject({ email: 'ada@example.com' });
  });

  it('gives no refresh token without access_type=offline', async () => {
    expect((await exchange(await code({ access_type: 'online' }))).body).not.toHaveProperty('refresh_token');
  });

  it.each([
    ['no grant_type', { grant_type: '' }, 400, 'invalid_request'],
    ['an unknown grant_type', { grant_type: 'password' }, 400, 'unsupported_grant_type'],
    ['an unknown client', { client_id: 'nobody' }, 401, 'invalid_client'],
    ['a wrong client secret', { client_secret: 'guess' }, 401, 'invalid_client'],
    ['no code', { code: '' }, 400, 'invalid_request'],
    ['an unknown code', { code: '4/0nothing' }, 400, 'invalid_grant'],
    ['another redirect_uri', { redirect_uri: 'http://127.0.0.1:10/' }, 400, 'redirect_uri_mismatch'],
    ['no code_verifier', { code_verifier: '' }, 400, 'invalid_grant'],
    ['a wrong code_verifier', { code_verifier: 'x'.repeat(43) }, 400, 'invalid_grant'],
  ])('refuses %s with %i %s, shaped as RFC 6749 §5.2', async (_label, change, status, error) => {
    // An empty value in the table leaves that parameter out.
    const base = {
      grant_type: 'authorization_code',
      code: await code(),
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: client.clientId,
      client_secret: client.clientSecret,
    };
    const sent = Object.fromEntries(Object.entries({ ...base, ...change }).filter(([, value]) => value !== ''));
    const answer = await token(sent);
    expect(answer).toEqual({ status, body: { error, error_description: expect.any(String) } });
  });

  it('takes a code once, and revokes what it gave when it is replayed', async () => {
    const theCode = await code();
    const first = await exchange(theCode);
    expect(first.status).toBe(200);
    expect(await exchange(theCode)).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'Bad Request' } });
    const refresh = await token({
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
      client_id: client.clientId,
      client_secret: client.clientSecret,
    });
    expect(refresh).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } });
  });

  it('refuses a revoked refresh token, and one of another client', async () => {
    const { body } = await exchange(await code());
    const refreshToken = body.refresh_token as string;
    issuer.registerOAuthClient({ clientId: 'other.test' });
    const other = await token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'other.test' });
    expect(other).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const revoke = await fetch(`${issuer.url}/revoke`, { method: 'POST', body: new URLSearchParams({ token: refreshToken }) });
    expect(revoke.status).toBe(200);
    const refused = await token({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: client.clientId,
      client_secret: 'secret',
    });
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await fetch(`${issuer.url}/revoke`, { method: 'POST', body: new URLSearchParams({ token: refreshToken }) })).status).toBe(400);
  });
});
