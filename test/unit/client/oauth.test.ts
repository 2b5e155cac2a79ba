import { describe, expect, it } from 'vitest';
import { authorizationUrl, exchangeCode, OAuthError, refreshIdToken } from '../../../client/oauth.ts';
import { signInSettingsOf, type SignInSettings } from '../../../shared/api/sign-in.ts';

const settings: SignInSettings = {
  clientId: 'cli.apps.googleusercontent.com',
  clientSecret: 'not-secret',
  authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenEndpoint: 'https://oauth2.googleapis.com/token',
};

describe('authorizationUrl', () => {
  it('asks Google for a code for the loopback redirect, with S256 PKCE, state, and offline access', () => {
    const url = new URL(
      authorizationUrl(settings, {
        redirectUri: 'http://127.0.0.1:4321/',
        state: 'st',
        pkce: { verifier: 'v', challenge: 'ch', method: 'S256' },
      }),
    );
    expect(url.origin + url.pathname).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'cli.apps.googleusercontent.com',
      redirect_uri: 'http://127.0.0.1:4321/',
      response_type: 'code',
      scope: 'openid email',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
      state: 'st',
      access_type: 'offline',
      prompt: 'consent',
    });
  });
});

/** A fetch that records the form it was sent and answers `status` with `body`. */
function answering(status: number, body: unknown): { fetch: typeof fetch; sent: URLSearchParams[] } {
  const sent: URLSearchParams[] = [];
  const fake = (async (_url: string | URL | Request, init?: RequestInit) => {
    sent.push(new URLSearchParams(String(init?.body)));
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return { fetch: fake, sent };
}

describe('the token endpoint', () => {
  it('exchanges a code with the verifier, the client id and its secret', async () => {
    const fake = answering(200, { access_token: 'a', id_token: 'h.p.s', refresh_token: 'r', expires_in: 3599, token_type: 'Bearer' });
    expect(await exchangeCode(settings, { code: 'c', redirectUri: 'http://127.0.0.1:1/', verifier: 'v' }, fake.fetch)).toEqual({
      idToken: 'h.p.s',
      refreshToken: 'r',
    });
    expect(Object.fromEntries(fake.sent[0] ?? [])).toEqual({
      grant_type: 'authorization_code',
      code: 'c',
      redirect_uri: 'http://127.0.0.1:1/',
      code_verifier: 'v',
      client_id: 'cli.apps.googleusercontent.com',
      client_secret: 'not-secret',
    });
  });

  it('turns an RFC 6749 §5.2 error into an OAuthError with its code', async () => {
    const fake = answering(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    const error = await refreshIdToken(settings, 'r', fake.fetch).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({
      status: 400,
      code: 'invalid_grant',
      message: expect.stringContaining('Token has been expired or revoked.'),
    });
    expect(Object.fromEntries(fake.sent[0] ?? [])).toMatchObject({ grant_type: 'refresh_token', refresh_token: 'r' });
  });

  it('refuses an answer without an id_token', async () => {
    await expect(refreshIdToken(settings, 'r', answering(200, { access_token: 'a' }).fetch)).rejects.toMatchObject({
      code: 'invalid_answer',
    });
  });
});

describe('signInSettingsOf', () => {
  it.each([
    [{ info: {} }, undefined],
    [{ info: { 'x-allocator-sign-in': settings } }, settings],
  ])('reads %j', (document, expected) => expect(signInSettingsOf(document)).toEqual(expected));

  it.each([
    [{ info: { 'x-allocator-sign-in': 'x' } }, /is not an object/],
    [{ info: { 'x-allocator-sign-in': { ...settings, clientId: '' } } }, /clientId is missing/],
    [{ info: { 'x-allocator-sign-in': { ...settings, tokenEndpoint: 'ftp://x' } } }, /tokenEndpoint is not an http\(s\) URL/],
  ])('refuses %j', (document, message) => expect(() => signInSettingsOf(document)).toThrow(message));
});
