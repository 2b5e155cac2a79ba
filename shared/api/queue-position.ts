import type { ErrorInfo } from '../errors.ts';

/**
 * A queued create's place, as its 409 ABORTED carries it: a
 * `google.rpc.ErrorInfo` with reason `QUEUED` whose metadata holds
 * `position` (1 is next) and `ahead` (live places in line before it), as strings,
 * since ErrorInfo's metadata is a map of strings.
 */
export const QUEUED_REASON = 'QUEUED';
export const ERROR_DOMAIN = 'allocator.dev';

export interface QueuePosition {
  /** 1 when next in line. */
  readonly position: number;
  readonly ahead: number;
}

export function queuedInfo(ahead: number): ErrorInfo {
  return {
    '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
    reason: QUEUED_REASON,
    domain: ERROR_DOMAIN,
    metadata: { position: String(ahead + 1), ahead: String(ahead) },
  };
}

/** The place a 409's body gives, or undefined when it is not a queued create's. */
export function readQueuePosition(body: unknown): QueuePosition | undefined {
  const details = (body as { error?: { details?: unknown } } | undefined)?.error?.details;
  if (!Array.isArray(details)) return undefined;
  const info = details.find(
    (detail: unknown): detail is ErrorInfo =>
      typeof detail === 'object' &&
      detail !== null &&
      (detail as ErrorInfo).reason === QUEUED_REASON &&
      (detail as ErrorInfo).domain === ERROR_DOMAIN,
  );
  const position = Number(info?.metadata?.position);
  const ahead = Number(info?.metadata?.ahead);
  if (!Number.isInteger(position) || position < 1 || !Number.isInteger(ahead) || ahead < 0) return undefined;
  return { position, ahead };
}

/** "3rd in line (2 ahead of you)". */
export function describePosition(place: QueuePosition): string {
  const tens = place.position % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][place.position % 10] ?? 'th');
  return `${place.position}${suffix} in line (${place.ahead} ahead of you)`;
}
