import { describe, expect, it } from 'vitest';
import { fetchParameterDeclarations } from '../../../client/parameters.ts';
import { openApiDocument } from '../../../shared/api/openapi.ts';
import type { ParameterDeclaration } from '../../../shared/api/parameters.ts';

const DECLARATIONS: ParameterDeclaration[] = [
  { name: 'imageTag', description: 'The image tag.', default: 'v1', pattern: '^[a-z0-9.-]+$', maxLength: 64 },
  { name: 'logLevel', description: 'How much it logs.', default: 'info', enum: ['debug', 'info'] },
];

/** A fetch that answers one URL with `answer`, and records what was asked. */
function fetchAnswering(answer: Response | Error): { fetchImpl: typeof fetch; asked: string[] } {
  const asked: string[] = [];
  const fetchImpl = (async (url: string | URL | Request) => {
    asked.push(String(url));
    if (answer instanceof Error) throw answer;
    return answer;
  }) as typeof fetch;
  return { fetchImpl, asked };
}

describe('fetchParameterDeclarations', () => {
  it("reads them from the list function's /openapi.json, with no token", async () => {
    const { fetchImpl, asked } = fetchAnswering(Response.json(openApiDocument({ version: 'v1', parameters: DECLARATIONS })));
    expect(await fetchParameterDeclarations('https://a.test/syncbase-list', fetchImpl)).toEqual(DECLARATIONS);
    expect(asked).toEqual(['https://a.test/syncbase-list/openapi.json']);
  });

  it.each([
    [new Response('nope', { status: 404 }), /https:\/\/a\.test\/x-list\/openapi\.json answered 404/],
    [new TypeError('fetch failed'), /cannot reach https:\/\/a\.test\/x-list\/openapi\.json: fetch failed/],
    [Response.json({ html: true }), /the OpenAPI document has no paths/],
  ])('says what went wrong: %s', async (answer, message) => {
    await expect(fetchParameterDeclarations('https://a.test/x-list', fetchAnswering(answer).fetchImpl)).rejects.toThrow(message);
  });
});
