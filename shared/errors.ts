/**
 * The errors Allocator answers with. Each carries its HTTP status and the
 * canonical Google API status name; `toHttpError` is the one place that turns
 * anything thrown into the JSON body callers see.
 */
export class AllocatorError extends Error {
  readonly status: number;
  readonly statusName: string;

  constructor(status: number, statusName: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
    this.statusName = statusName;
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
  readonly retryAfterSeconds: number;
  constructor(message: string, options: { retryAfterSeconds: number; cause?: unknown }) {
    super(409, 'ABORTED', message, options);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export class PayloadTooLargeError extends AllocatorError {
  override readonly name = 'PayloadTooLargeError';
  constructor(limitBytes: number) {
    super(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${limitBytes} bytes`);
  }
}

export class QuotaExceededError extends AllocatorError {
  override readonly name = 'QuotaExceededError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(429, 'RESOURCE_EXHAUSTED', message, options);
  }
}

export class UnavailableError extends AllocatorError {
  override readonly name = 'UnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(503, 'UNAVAILABLE', message, options);
  }
}

export class DeadlineExceededError extends AllocatorError {
  override readonly name = 'DeadlineExceededError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(504, 'DEADLINE_EXCEEDED', message, options);
  }
}

/** The Google API error body: `{"error": {"code", "status", "message"}}`. */
export interface HttpErrorBody {
  error: { code: number; status: string; message: string };
}

/**
 * Maps anything thrown to a status and a JSON body. Unknown errors become a
 * 500 whose message says nothing of the internals (they are logged instead).
 */
export function toHttpError(error: unknown): { status: number; body: HttpErrorBody; headers: Record<string, string> } {
  if (error instanceof AllocatorError) {
    const headers: Record<string, string> = {};
    if (error instanceof UnauthenticatedError) headers['WWW-Authenticate'] = 'Bearer';
    if (error instanceof MethodNotAllowedError) headers.Allow = error.allowed.join(', ');
    if (error instanceof AbortedError) headers['Retry-After'] = String(error.retryAfterSeconds);
    return { status: error.status, headers, body: { error: { code: error.status, status: error.statusName, message: error.message } } };
  }
  return { status: 500, headers: {}, body: { error: { code: 500, status: 'INTERNAL', message: 'internal error; see the function logs' } } };
}
