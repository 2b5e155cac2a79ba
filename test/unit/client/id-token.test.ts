import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MissingIdentityError } from '../../../client/errors.ts';
import { googleIdTokenSource } from '../../../client/id-token.ts';

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
    const failure = await googleIdTokenSource({ gcloud: '/nonexistent/gcloud' })
      .getIdToken('https://allocator.test')
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MissingIdentityError);
    const { message, cause } = failure as MissingIdentityError;
    expect(message).toMatch(
      /^no Google identity found \(google-auth-library: .*allocator-test-key\.json.*; gcloud: not installed\)\. Either pass --token/,
    );
    expect((cause as AggregateError).errors).toHaveLength(2);
  });
});
