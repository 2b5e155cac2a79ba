import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MissingIdentityError } from '../../../client/errors.ts';
import { googleIdTokenSource } from '../../../client/id-token.ts';
import { LoginStore } from '../../../client/login-store.ts';

describe('googleIdTokenSource', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    // Offline and deterministic: a key file that is not there, and no metadata server to ask.
    process.env.GOOGLE_APPLICATION_CREDENTIALS = '/nonexistent/allocator-test-key.json';
    process.env.METADATA_SERVER_DETECTION = 'none';
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('says why each source of tokens failed, and keeps their errors as the cause', async () => {
    const failure = await googleIdTokenSource({ gcloud: '/nonexistent/gcloud', logins: new LoginStore('/nonexistent/allocator') })
      .getIdToken('https://allocator.test')
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MissingIdentityError);
    const { message, cause } = failure as MissingIdentityError;
    expect(message).toMatch(
      /^no Google identity found \(google-auth-library: .*allocator-test-key\.json.*; gcloud: not installed\)\. Either:\n/,
    );
    expect(message.split('\n').slice(1)).toEqual([
      '  - sign in with `allocator login`',
      '  - pass --token (or set ALLOCATOR_TOKEN)',
      '  - set GOOGLE_APPLICATION_CREDENTIALS to a service account key',
      '  - run on Google Cloud, with a service account',
      '  - sign in with `gcloud auth login`, so that `gcloud auth print-identity-token` works',
    ]);
    expect((cause as AggregateError).errors).toHaveLength(2);
  });

  it("keeps the metadata server's lookup warning from the output, and no other warning", async () => {
    // A metadata server that answers 500 makes google-auth-library's lookup warn, as an odd network does.
    const metadata = createServer((_request, response) => response.writeHead(500).end());
    await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', resolve));
    const config = mkdtempSync(join(tmpdir(), 'allocator-gcloud-config-'));
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    delete process.env.METADATA_SERVER_DETECTION;
    process.env.CLOUDSDK_CONFIG = config;
    process.env.GCE_METADATA_HOST = `127.0.0.1:${(metadata.address() as AddressInfo).port}`;
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    const emitWarning = process.emitWarning;
    try {
      await expect(
        googleIdTokenSource({ gcloud: '/nonexistent/gcloud', logins: new LoginStore('/nonexistent/allocator') }).getIdToken(
          'https://allocator.test',
        ),
      ).rejects.toThrow(MissingIdentityError);
      expect(process.emitWarning).toBe(emitWarning);
      process.emitWarning('another', 'OtherWarning');
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual(['OtherWarning']);
    } finally {
      process.off('warning', onWarning);
      metadata.close();
      rmSync(config, { recursive: true, force: true });
    }
  });

  describe('with a sign-in from allocator login', () => {
    const dir = mkdtempSync(join(tmpdir(), 'allocator-id-token-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const logins = new LoginStore(dir);
    logins.set('https://allocator.test', {
      clientId: 'cli.test',
      clientSecret: 's',
      authorizationEndpoint: 'https://issuer.test/auth',
      tokenEndpoint: 'https://issuer.test/token',
      refreshToken: 'r1',
      email: 'ada@example.com',
    });
    const jwt = (exp: number): string => `h.${Buffer.from(JSON.stringify({ aud: 'cli.test', exp })).toString('base64url')}.s`;

    it('mints ID tokens for the client id from the refresh token, first, and caches them until a minute before exp', async () => {
      const sent: string[] = [];
      const fetchToken = (async (url: string | URL | Request, init?: RequestInit) => {
        sent.push(`${String(url)} ${String(init?.body)}`);
        return Response.json({ id_token: jwt(Math.floor(Date.now() / 1000) + 3600) });
      }) as typeof fetch;
      const source = googleIdTokenSource({ gcloud: '/nonexistent/gcloud', logins, fetch: fetchToken });
      const token = await source.getIdToken('https://allocator.test');
      expect(await source.getIdToken('https://allocator.test')).toBe(token);
      expect(sent).toEqual(['https://issuer.test/token grant_type=refresh_token&refresh_token=r1&client_id=cli.test&client_secret=s']);
    });

    it('refreshes a token within a minute of its exp', async () => {
      let calls = 0;
      const fetchToken = (async () => {
        calls += 1;
        return Response.json({ id_token: jwt(Math.floor(Date.now() / 1000) + 30) });
      }) as typeof fetch;
      const source = googleIdTokenSource({ gcloud: '/nonexistent/gcloud', logins, fetch: fetchToken });
      await source.getIdToken('https://allocator.test');
      await source.getIdToken('https://allocator.test');
      expect(calls).toBe(2);
    });

    it('says to sign in again when the refresh token is refused', async () => {
      const refused = (async () =>
        Response.json(
          { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' },
          { status: 400 },
        )) as typeof fetch;
      const failure = await googleIdTokenSource({ gcloud: '/nonexistent/gcloud', logins, fetch: refused })
        .getIdToken('https://allocator.test')
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(MissingIdentityError);
      expect((failure as Error).message).toMatch(
        /^the sign-in to https:\/\/allocator.test as ada@example.com is no longer good \(.*invalid_grant.*\): run `allocator login` again/,
      );
    });

    it('leaves other allocators to the usual chain', async () => {
      await expect(googleIdTokenSource({ gcloud: '/nonexistent/gcloud', logins }).getIdToken('https://other.test')).rejects.toThrow(
        /^no Google identity found/,
      );
    });
  });
});
