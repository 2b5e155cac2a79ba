import { afterEach, describe, expect, it } from 'vitest';
import { startLoopback } from '../../../cli/login.ts';

// Issue 29: anyone who can reach the loopback port (any local process, a page in the browser) could end a sign-in.
let close: (() => void) | undefined;
afterEach(() => close?.());

async function get(uri: string, query: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${uri}?${query}`);
  return { status: response.status, text: await response.text() };
}

describe("login's loopback redirect", () => {
  it('answers a request with a wrong or missing state 400 and keeps waiting for the one with the right state', async () => {
    const loopback = await startLoopback('the-state');
    close = loopback.close;
    let settled: unknown;
    void loopback.redirect.then((redirect) => (settled = redirect));
    for (const query of ['code=evil&state=wrong', 'error=access_denied&state=wrong', 'code=evil', 'error=access_denied']) {
      const answer = await get(loopback.redirectUri, query);
      expect({ query, status: answer.status, text: answer.text }).toEqual({
        query,
        status: 400,
        text: expect.stringContaining('not from this sign-in') as string,
      });
    }
    expect(settled).toBeUndefined();
    expect((await get(loopback.redirectUri, 'code=good&state=the-state')).status).toBe(200);
    expect(await loopback.redirect).toEqual({ code: 'good', state: 'the-state' });
  });

  it("ends on Google's error with the right state", async () => {
    const loopback = await startLoopback('s2');
    close = loopback.close;
    expect((await get(loopback.redirectUri, 'error=access_denied&state=s2')).status).toBe(400);
    expect(await loopback.redirect).toEqual({ error: 'access_denied', state: 's2' });
  });
});
