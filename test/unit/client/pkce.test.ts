import { describe, expect, it } from 'vitest';
import { makePkcePair, makeState, s256Challenge } from '../../../client/pkce.ts';

describe('PKCE (RFC 7636)', () => {
  it("derives the S256 challenge of RFC 7636's Appendix B example", () => {
    expect(s256Challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('makes a 43-character verifier of unreserved characters from 32 random bytes, and its challenge', () => {
    const pair = makePkcePair(() => Buffer.alloc(32, 0xfb));
    expect(pair).toEqual({
      verifier: Buffer.alloc(32, 0xfb).toString('base64url'),
      challenge: s256Challenge(pair.verifier),
      method: 'S256',
    });
    expect(pair.verifier).toMatch(/^[A-Za-z0-9\-._~]{43}$/);
  });

  it('makes a fresh verifier and state each time', () => {
    expect(makePkcePair().verifier).not.toBe(makePkcePair().verifier);
    expect(makeState()).not.toBe(makeState());
    expect(makeState()).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});
