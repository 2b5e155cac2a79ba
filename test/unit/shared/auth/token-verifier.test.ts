import { describe, expect, it } from 'vitest';
import { checkClaims, describeVerificationFailure, selectToken } from '../../../../shared/auth/token-verifier.ts';
import { decodeJwt } from '../../../../shared/auth/jwt.ts';

describe('selectToken', () => {
  it.each([
    ['verify', { authorization: 'Bearer a' }, 'a'],
    ['verify', { 'x-serverless-authorization': 'Bearer s' }, 's'],
    ['verify', { authorization: 'Bearer a', 'x-serverless-authorization': 'Bearer s' }, 'a'],
    ['trust-cloud-run-iam', { authorization: 'Bearer a', 'x-serverless-authorization': 'Bearer s' }, 's'],
    ['trust-cloud-run-iam', { authorization: 'bearer a' }, 'a'],
  ] as const)('in %s mode picks from %j', (mode, headers, expected) => {
    expect(selectToken(headers, mode)).toBe(expected);
  });

  it.each([{}, { authorization: '' }, { authorization: 'Basic dXNlcg==' }, { authorization: 'Bearer' }])('answers 401 to %j', (headers) => {
    expect(() => selectToken(headers, 'verify')).toThrow(expect.objectContaining({ status: 401 }));
  });
});

describe('checkClaims', () => {
  const now = 1_800_000_000_000;
  const valid = {
    iss: 'https://accounts.google.com',
    aud: 'aud-1',
    sub: '123',
    email: 'ada@example.com',
    email_verified: true,
    iat: now / 1000 - 10,
    exp: now / 1000 + 3600,
  };

  it('accepts valid claims', () => {
    expect(checkClaims(valid, ['aud-0', 'aud-1'], now)).toEqual({ email: 'ada@example.com', sub: '123', aud: valid.aud });
  });

  it.each([
    ['another issuer', { iss: 'https://evil.example' }, 401, /issued by Google/],
    ['another audience', { aud: 'aud-2' }, 401, /audience/],
    ['an audience list', { aud: ['aud-1'] }, 401, /audience/],
    ['an expired token', { exp: now / 1000 - 301 }, 401, /expired/],
    ['a token from the future', { iat: now / 1000 + 301 }, 401, /not valid yet/],
    ['no email', { email: undefined }, 401, /no email/],
    ['no subject', { sub: '' }, 401, /no subject/],
    ['an unverified email', { email_verified: false }, 403, /not verified/],
  ])('refuses %s', (_label, override, status, message) => {
    expect(() => checkClaims({ ...valid, ...override }, ['aud-1'], now)).toThrow(
      expect.objectContaining({ status, message: expect.stringMatching(message) }),
    );
  });
});

describe('describeVerificationFailure', () => {
  it.each([
    ['Wrong recipient, payload audience != requiredAudience', 401, 'token audience is not accepted by this allocator'],
    ['Invalid token signature: eyJhbGciOi.secret.sig', 401, 'token signature is invalid'],
    ['Token used too late, 1 > 0: {"email":"x"}', 401, 'token has expired'],
    ['No pem found for envelope: {"kid":"k"}', 401, 'token is signed by an unknown key'],
    ['Failed to retrieve verification certificates: connect ECONNREFUSED', 503, "cannot fetch Google's token certificates; try again"],
    ['something new', 401, 'token could not be verified'],
  ])('maps %j', (message, status, expected) => {
    const error = describeVerificationFailure(new Error(message));
    expect(error).toMatchObject({ status, message: expected });
  });
});

describe('decodeJwt', () => {
  it('decodes the three parts', () => {
    const token = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{"a":1}').toString('base64url')}.sig`;
    expect(decodeJwt(token)).toEqual({ header: { alg: 'RS256' }, payload: { a: 1 }, signature: 'sig' });
  });

  it.each(['a.b', 'a.b.c.d', '!!.e30.x', 'e30.W10.x'])('refuses %j with 401', (token) => {
    expect(() => decodeJwt(token)).toThrow(expect.objectContaining({ status: 401 }));
  });
});
