import { BadRequestError } from '../errors.ts';

/** The configured lifetimes, in seconds: the default, and the longest one may ask for (0: no maximum). */
export interface LifetimeLimits {
  readonly defaultSeconds: number;
  readonly maxSeconds: number;
}

/**
 * The lifetime an instance gets, in seconds (0: never expires): what the
 * caller asked for, else the configured default; never longer than the
 * configured maximum.
 */
export function resolveLifetimeSeconds(requested: number | undefined, limits: LifetimeLimits): number {
  if (requested === undefined) return limits.defaultSeconds;
  if (limits.maxSeconds > 0 && (requested === 0 || requested > limits.maxSeconds)) {
    throw new BadRequestError(`"lifetimeSeconds" may be at most ${limits.maxSeconds} (${formatDuration(limits.maxSeconds)})`);
  }
  return requested;
}

/** The expiry for a lifetime starting at `fromMs`, or undefined for a lifetime of 0 (never). */
export function expiryFor(lifetimeSeconds: number, fromMs: number): string | undefined {
  return lifetimeSeconds === 0 ? undefined : new Date(fromMs + lifetimeSeconds * 1000).toISOString();
}

export function isExpired(expiresAt: string | undefined, nowMs: number): boolean {
  if (expiresAt === undefined) return false;
  const at = Date.parse(expiresAt);
  return Number.isFinite(at) && at <= nowMs;
}

function formatDuration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  return `${seconds} s`;
}

/** The expiry an extension sets: now plus what was asked, else the default (or the maximum); undefined: never expires. */
export function extensionExpiry(requestedSeconds: number | undefined, limits: LifetimeLimits, nowMs: number): string | undefined {
  return expiryFor(resolveLifetimeSeconds(requestedSeconds ?? (limits.defaultSeconds || limits.maxSeconds || undefined), limits), nowMs);
}
