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
