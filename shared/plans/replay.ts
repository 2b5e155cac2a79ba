import type { V1Deployment } from '@kubernetes/client-node';
import { AbortedError, AlreadyExistsError } from '../errors.ts';
import { ANNOTATIONS, instanceParameters } from '../instances/metadata.ts';

/** How long an Idempotency-Key keeps answering with the instance it made. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

/**
 * An existing instance answers a retried create only if that create made it,
 * recently, with the same parameters (defaults filled in); otherwise a 409
 * that no retry fixes.
 */
export function checkReplay(
  existing: V1Deployment,
  retry: { keyHash: string; nowMs: number; parameters?: Readonly<Record<string, string>> },
): void {
  const annotations = existing.metadata?.annotations ?? {};
  if (annotations[ANNOTATIONS.idempotencyKey] !== retry.keyHash)
    throw new AlreadyExistsError('this Idempotency-Key was already used for another instance; use a new key');
  const createdAt = Date.parse(annotations[ANNOTATIONS.createdAt] ?? '');
  if (!(retry.nowMs - createdAt < IDEMPOTENCY_WINDOW_MS)) throw new AlreadyExistsError('this Idempotency-Key has expired; use a new key');
  const differing = differentParameters(instanceParameters(annotations), retry.parameters ?? {});
  if (differing.length > 0)
    throw new AlreadyExistsError(
      `this Idempotency-Key made ${existing.metadata?.name ?? 'an instance'} with other parameters (${differing.join(', ')}): a different request; use a new key`,
    );
}

/** The names whose values differ between two sets of parameters, sorted. */
function differentParameters(made: Readonly<Record<string, string>>, asked: Readonly<Record<string, string>>): string[] {
  const names = new Set([...Object.keys(made), ...Object.keys(asked)]);
  return [...names].filter((name) => made[name] !== asked[name]).sort();
}

/**
 * What the parts of an instance found before its Deployment exists mean:
 * made by a create still running (`in-progress`), or left by one that was
 * interrupted (`interrupted`: older than the sweep's grace period, the same
 * rule the sweep uses to call them orphans).
 */
export function judgeLeftovers(createdAtMs: readonly number[], nowMs: number, graceMs: number): 'none' | 'in-progress' | 'interrupted' {
  if (createdAtMs.length === 0) return 'none';
  return createdAtMs.some((at) => !(at < nowMs - graceMs)) ? 'in-progress' : 'interrupted';
}

/** The 409 a retry should wait out: until the parts found are either finished or old enough to be called leftovers. */
export function stillInProgress(what: string, createdAtMs: readonly number[], nowMs: number, graceMs: number): AbortedError {
  const known = createdAtMs.filter(Number.isFinite);
  const youngest = known.length > 0 ? Math.max(...known) : nowMs;
  const leftoverInSeconds = Math.max(1, Math.ceil((youngest + graceMs - nowMs) / 1000));
  return new AbortedError(
    `${what} is still in progress; retry shortly (if it was interrupted, its parts are cleared by a retry after ${leftoverInSeconds} s)`,
    { retryAfterSeconds: Math.min(5, leftoverInSeconds) },
  );
}
