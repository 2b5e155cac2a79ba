/** An error answered by an allocator function, or the failure to reach it. */
export class AllocatorApiError extends Error {
  override readonly name = 'AllocatorApiError';
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The Google API status name (`RESOURCE_EXHAUSTED`, ...), or `UNAVAILABLE` when no answer came. */
  readonly code: string;
  /** The server's JSON error, as sent. */
  readonly body: unknown;
  /** The answer's `Retry-After`, in milliseconds, when it had one. */
  readonly retryAfterMs?: number;

  constructor(status: number, code: string, message: string, options: { body?: unknown; cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, { cause: options.cause });
    this.status = status;
    this.code = code;
    this.body = options.body;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** The caller has no identity to send: the message says what to set up. */
export class MissingIdentityError extends Error {
  override readonly name = 'MissingIdentityError';
}
