import { UnauthenticatedError } from '../errors.ts';

/** What Cloud Run puts in place of the signature of a token it has verified. */
export const SIGNATURE_REMOVED = 'SIGNATURE_REMOVED_BY_GOOGLE';

export interface DecodedJwt {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly signature: string;
}

/** Splits and decodes a compact JWT without verifying it. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new UnauthenticatedError('malformed token: expected three dot-separated parts');
  const [header, payload, signature] = parts as [string, string, string];
  return { header: decodeSegment(header, 'header'), payload: decodeSegment(payload, 'payload'), signature };
}

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to one error
  }
  throw new UnauthenticatedError(`malformed token: its ${what} is not base64url JSON`);
}
