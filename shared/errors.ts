/**
 * The errors Allocator answers with. Each carries its HTTP status and the
 * canonical Google API status name; `toHttpError` is the one place that turns
 * anything thrown into the JSON body callers see.
 */
export class AllocatorError extends Error {
  readonly status: number;
  readonly statusName: string;
  /** When set, a retry may succeed after this many seconds; `toHttpError` sends it as `Retry-After`. */
  readonly retryAfterSeconds?: number;
  /** Machine-readable details (Google's `google.rpc.ErrorInfo`), answered in the body's `details`. */
  readonly details?: readonly ErrorInfo[];

  constructor(
    status: number,
    statusName: string,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number; details?: readonly ErrorInfo[] },
  ) {
    super(message, options);
    this.status = status;
    this.statusName = statusName;
    this.retryAfterSeconds = options?.retryAfterSeconds;
    if (options?.details) this.details = options.details;
  }
}

/** What a 500 says to the caller when the details belong in the logs only. */
export const INTERNAL_MESSAGE = 'internal error; see the function logs';

/**
 * Our own fault (a bug, a refusal of our request by a backend): 500 INTERNAL.
 * `toHttpError` answers anything that is not an AllocatorError with one
 * whose message is INTERNAL_MESSAGE, which says nothing of the internals.
 */
export class InternalError extends AllocatorError {
  override readonly name: string = 'InternalError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(500, 'INTERNAL', message, options);
  }
}

export class BadRequestError extends AllocatorError {
  override readonly name = 'BadRequestError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(400, 'INVALID_ARGUMENT', message, options);
  }
}

export class UnauthenticatedError extends AllocatorError {
  override readonly name = 'UnauthenticatedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(401, 'UNAUTHENTICATED', message, options);
  }
}

export class PermissionDeniedError extends AllocatorError {
  override readonly name = 'PermissionDeniedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(403, 'PERMISSION_DENIED', message, options);
  }
}

export class NotFoundError extends AllocatorError {
  override readonly name = 'NotFoundError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(404, 'NOT_FOUND', message, options);
  }
}

export class MethodNotAllowedError extends AllocatorError {
  override readonly name = 'MethodNotAllowedError';
  readonly allowed: readonly string[];
  constructor(method: string, allowed: readonly string[]) {
    super(405, 'METHOD_NOT_ALLOWED', `method ${method} is not allowed; use ${allowed.join(' or ')}`);
    this.allowed = allowed;
  }
}

/**
 * The request cannot succeed in the system's present state, and retrying
 * will not help until somebody changes it (Google's FAILED_PRECONDITION):
 * an instance whose pods report a problem that waiting will not mend.
 */
export class FailedPreconditionError extends AllocatorError {
  override readonly name = 'FailedPreconditionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(400, 'FAILED_PRECONDITION', message, options);
  }
}

export class AlreadyExistsError extends AllocatorError {
  override readonly name = 'AlreadyExistsError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(409, 'ALREADY_EXISTS', message, options);
  }
}

/**
 * A concurrent operation holds what this request needs (Google's ABORTED): the
 * one 409 that a client should retry, after `retryAfterSeconds`.
 */
export class AbortedError extends AllocatorError {
  override readonly name = 'AbortedError';
  declare readonly retryAfterSeconds: number;
  constructor(message: string, options: { retryAfterSeconds: number; cause?: unknown; details?: readonly ErrorInfo[] }) {
    super(409, 'ABORTED', message, options);
  }
}

/**
 * A conditional write lost a race: the object changed since it was read
 * (Kubernetes' 409 Conflict on a stale resourceVersion). Writers read again
 * and retry; one that still loses answers this as a retryable 409.
 */
export class ConflictError extends AllocatorError {
  override readonly name = 'ConflictError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(409, 'ABORTED', message, { retryAfterSeconds: 1, ...options });
  }
}

export class PayloadTooLargeError extends AllocatorError {
  override readonly name = 'PayloadTooLargeError';
  constructor(limitBytes: number) {
    super(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${limitBytes} bytes`);
  }
}

/** A limit is reached (429); with `retryAfterSeconds` when the limit is known to lift by then. */
export class QuotaExceededError extends AllocatorError {
  override readonly name = 'QuotaExceededError';
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(429, 'RESOURCE_EXHAUSTED', message, options);
  }
}

/** A backend cannot serve now (503); with `retryAfterSeconds` when it said how long to wait. */
export class UnavailableError extends AllocatorError {
  override readonly name = 'UnavailableError';
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(503, 'UNAVAILABLE', message, options);
  }
}

export class DeadlineExceededError extends AllocatorError {
  override readonly name = 'DeadlineExceededError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(504, 'DEADLINE_EXCEEDED', message, options);
  }
}

/** Google's `google.rpc.ErrorInfo` in JSON: why, in a word, and facts as strings. */
export interface ErrorInfo {
  readonly '@type': 'type.googleapis.com/google.rpc.ErrorInfo';
  readonly reason: string;
  readonly domain: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The Google API error body: `{"error": {"code", "status", "message", "details"?}}`. */
export interface HttpErrorBody {
  error: { code: number; status: string; message: string; details?: readonly ErrorInfo[] };
}

/**
 * Maps anything thrown to a status, headers and a JSON body. Unknown errors
 * become an InternalError, whose message says nothing of the internals (they
 * are logged instead). Any error with a retry hint gets `Retry-After`.
 */
export function toHttpError(error: unknown): { status: number; body: HttpErrorBody; headers: Record<string, string> } {
  const known = error instanceof AllocatorError ? error : new InternalError(INTERNAL_MESSAGE, { cause: error });
  const headers: Record<string, string> = {};
  if (known instanceof UnauthenticatedError) headers['WWW-Authenticate'] = 'Bearer';
  if (known instanceof MethodNotAllowedError) headers.Allow = known.allowed.join(', ');
  // Retry-After takes whole seconds (RFC 9110, delay-seconds).
  if (known.retryAfterSeconds !== undefined) headers['Retry-After'] = String(Math.max(0, Math.ceil(known.retryAfterSeconds)));
  const details = known.details ? { details: known.details } : {};
  return {
    status: known.status,
    headers,
    body: { error: { code: known.status, status: known.statusName, message: known.message, ...details } },
  };
}
