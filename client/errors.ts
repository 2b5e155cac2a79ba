/** An error answered by an allocator function, or the failure to reach it. */
export class AllocatorApiError extends Error {
  override readonly name = 'AllocatorApiError';
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The Google API status name (`RESOURCE_EXHAUSTED`, ...), or `UNAVAILABLE` when no answer came. */
  readonly code: string;
  /** The server's JSON error, as sent. */
  readonly body: unknown;

  constructor(status: number, code: string, message: string, options: { body?: unknown; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.status = status;
    this.code = code;
    this.body = options.body;
  }
}

/** The caller has no identity to send: the message says what to set up. */
export class MissingIdentityError extends Error {
  override readonly name = 'MissingIdentityError';
}
