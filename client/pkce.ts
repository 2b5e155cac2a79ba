import { createHash, randomBytes } from 'node:crypto';

/**
 * A PKCE pair (RFC 7636): a `code_verifier` of 43 unreserved characters (32
 * random bytes, base64url, as §4.1 suggests) and its S256 `code_challenge`,
 * BASE64URL(SHA256(ASCII(code_verifier))) (§4.2).
 */
export interface PkcePair {
  readonly verifier: string;
  readonly challenge: string;
  readonly method: 'S256';
}

export function makePkcePair(random: (size: number) => Buffer = randomBytes): PkcePair {
  const verifier = random(32).toString('base64url');
  return { verifier, challenge: s256Challenge(verifier), method: 'S256' };
}

export function s256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** An unguessable `state`, which the loopback redirect must carry back (RFC 6749 §10.12). */
export function makeState(random: (size: number) => Buffer = randomBytes): string {
  return random(24).toString('base64url');
}
