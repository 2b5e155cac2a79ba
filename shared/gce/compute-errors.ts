import { AllocatorError, AlreadyExistsError, InternalError, NotFoundError, QuotaExceededError, UnavailableError } from '../errors.ts';

/** A disk is still attached to an instance (GCE answers 400 resourceInUseByAnotherResource). */
export class DiskInUseError extends AllocatorError {
  override readonly name = 'DiskInUseError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(409, 'FAILED_PRECONDITION', message, options);
  }
}

/**
 * Compute Engine refused a `setLabels` whose `labelFingerprint` is not the
 * disk's current one (412 conditionNotMet, "Labels fingerprint either invalid
 * or resource labels have changed"): somebody changed its labels since they
 * were read. For a pool disk: another create claimed it first.
 */
export class StaleFingerprintError extends AllocatorError {
  override readonly name = 'StaleFingerprintError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(409, 'ABORTED', message, options);
  }
}

/**
 * Compute Engine refused for a reason that a retry will not fix. To our
 * caller that is our fault, so it is a 500 whatever Compute answered, but
 * Compute's answer is kept, in the fields and at the end of the message:
 * - 400 INVALID_ARGUMENT (or an operation's INVALID_FIELD_VALUE): our request
 *   was wrong (a bad disk type, say), not the caller's.
 * - 403 PERMISSION_DENIED and 401 UNAUTHENTICATED: the allocator's own
 *   credentials lack an IAM role; a 403 would tell the caller that *they* may
 *   not, which is untrue. (Compute's 403 rate limits are not this: see
 *   `computeError`.)
 * - any other 4xx (gax's FAILED_PRECONDITION), and an operation that ends in
 *   an error code not known to be transient.
 */
export class ComputeRejectedError extends InternalError {
  override readonly name = 'ComputeRejectedError';
  /** Compute Engine's HTTP status, when known (gax keeps it as `httpStatusCode`; an operation as `httpErrorStatusCode`). */
  readonly upstreamStatus: number | undefined;
  /** Compute Engine's code: the gRPC name gax mapped the HTTP status to, or the operation's error code. */
  readonly upstreamCode: string;
  constructor(message: string, options: { upstreamCode: string; upstreamStatus?: number | undefined; cause?: unknown }) {
    const upstream = options.upstreamStatus === undefined ? options.upstreamCode : `HTTP ${options.upstreamStatus} ${options.upstreamCode}`;
    super(`${message} (Compute Engine answered ${upstream})`, options);
    this.upstreamStatus = options.upstreamStatus;
    this.upstreamCode = options.upstreamCode;
  }
}

/**
 * How long to wait after Compute Engine's rate limit. Its rate quotas are
 * counted per minute and refill at the start of the next minute, so a
 * retry after 60 s always meets a refilled quota.
 */
export const COMPUTE_RATE_LIMIT_RETRY_AFTER_SECONDS = 60;

/**
 * gRPC codes as google-gax reports Compute Engine's HTTP statuses. Compute
 * Engine's errors carry no `status`, so gax maps the HTTP code (400
 * INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 NOT_FOUND,
 * 409 ABORTED, 429 RESOURCE_EXHAUSTED, 503 UNAVAILABLE, other 4xx
 * FAILED_PRECONDITION, other 5xx INTERNAL): 409 (an insert of a disk that
 * exists) arrives as ABORTED, not ALREADY_EXISTS, and a 403 rate limit as
 * PERMISSION_DENIED.
 */
const GRPC = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNAUTHENTICATED: 16,
} as const;

/** The HTTP status behind a gRPC code, where gax maps only one status to it. */
const HTTP_STATUS_OF: Readonly<Partial<Record<number, number>>> = {
  [GRPC.INVALID_ARGUMENT]: 400,
  [GRPC.UNAUTHENTICATED]: 401,
  [GRPC.PERMISSION_DENIED]: 403,
};

/**
 * Compute Engine's rate limits: the reasons of its HTTP 403s (`errors[].reason`
 * rateLimitExceeded, userRateLimitExceeded, with the ErrorInfo reason
 * CONCURRENT_OPERATIONS_QUOTA_EXCEEDED for too many operations in flight), the
 * ErrorInfo reason RATE_LIMIT_EXCEEDED of a 429, and the operation error codes
 * RATE_LIMIT_EXCEEDED and RESOURCE_OPERATION_RATE_EXCEEDED. gax keeps only the
 * ErrorInfo reason (as `reason`); the others survive only in the message,
 * which is "Rate Limit Exceeded" or "User Rate Limit Exceeded".
 */
const RATE_LIMIT_CODES = new Set(['RATE_LIMIT_EXCEEDED', 'RESOURCE_OPERATION_RATE_EXCEEDED', 'CONCURRENT_OPERATIONS_QUOTA_EXCEEDED']);
const RATE_LIMIT_MESSAGE = /rate[ _]?limit[ _]?exceeded|RESOURCE_OPERATION_RATE_EXCEEDED/i;

/**
 * A rate limit is transient and not the caller's doing (the limit is the
 * allocator's project's): 503 UNAVAILABLE with Retry-After, which the
 * destroy's retry loop also waits out, as it does any UnavailableError.
 */
function rateLimited(message: string, options?: { cause?: unknown }): UnavailableError {
  return new UnavailableError(`${message}; retry after ${COMPUTE_RATE_LIMIT_RETRY_AFTER_SECONDS} s`, {
    ...options,
    retryAfterSeconds: COMPUTE_RATE_LIMIT_RETRY_AFTER_SECONDS,
  });
}

function isRateLimit(error: unknown, message: string): boolean {
  const reason = (error as { reason?: unknown } | undefined)?.reason;
  return (typeof reason === 'string' && RATE_LIMIT_CODES.has(reason)) || RATE_LIMIT_MESSAGE.test(message);
}

/** Maps what a gax call threw to a typed error, keeping the cause. */
export function computeError(error: unknown, action: string): AllocatorError {
  if (error instanceof AllocatorError) return error;
  const { code, httpStatusCode } = (error ?? {}) as { code?: unknown; httpStatusCode?: unknown };
  const message = (error as Error | undefined)?.message ?? String(error);
  const described = `${action}: ${message}`;
  const rejected = (text: string): ComputeRejectedError =>
    new ComputeRejectedError(text, {
      upstreamCode: grpcName(code),
      upstreamStatus: typeof httpStatusCode === 'number' ? httpStatusCode : HTTP_STATUS_OF[code as number],
      cause: error,
    });
  switch (code) {
    case GRPC.NOT_FOUND:
      return new NotFoundError(described, { cause: error });
    case GRPC.ALREADY_EXISTS:
      return new AlreadyExistsError(described, { cause: error });
    case GRPC.ABORTED:
      // gax keeps only google.rpc.Status fields, so the reason survives only in the message.
      if (/already exists/i.test(message)) return new AlreadyExistsError(described, { cause: error });
      return new UnavailableError(`${action}: Compute Engine aborted the call; try again`, { cause: error });
    case GRPC.RESOURCE_EXHAUSTED:
      if (isRateLimit(error, message))
        return rateLimited(`${action}: Compute Engine's rate limit was exceeded: ${message}`, { cause: error });
      return new QuotaExceededError(described, { cause: error });
    case GRPC.INVALID_ARGUMENT:
    case GRPC.FAILED_PRECONDITION:
      if (/fingerprint either invalid|resource labels have changed/i.test(message))
        return new StaleFingerprintError(described, { cause: error });
      if (/being used by|resourceInUseByAnotherResource/i.test(message)) return new DiskInUseError(described, { cause: error });
      return rejected(described);
    case GRPC.PERMISSION_DENIED:
      // Compute answers its rate limits with 403 too, which gax calls PERMISSION_DENIED.
      if (isRateLimit(error, message))
        return rateLimited(`${action}: Compute Engine's rate limit was exceeded: ${message}`, { cause: error });
      return rejected(`${action}: the allocator's credentials are not allowed to do this; check its IAM roles`);
    case GRPC.UNAUTHENTICATED:
      return rejected(`${action}: the allocator's credentials are not allowed to do this; check its IAM roles`);
    default:
      return new UnavailableError(`${action}: Compute Engine is unavailable`, { cause: error });
  }
}

function grpcName(code: unknown): string {
  const name = Object.entries(GRPC).find(([, value]) => value === code)?.[0];
  return name ?? `gRPC code ${String(code)}`;
}

/** Operation error codes that a later try may not meet: capacity and Compute Engine's own trouble. */
const TRANSIENT_OPERATION_ERRORS = /^(INTERNAL_ERROR|ZONE_RESOURCE_POOL_EXHAUSTED.*|RESOURCE_NOT_READY|SERVICE_UNAVAILABLE)$/;

/**
 * Maps the first error of a finished Compute Engine operation (codes such as
 * QUOTA_EXCEEDED, RESOURCE_ALREADY_EXISTS), with the operation's
 * `httpErrorStatusCode` when it has one. Rate limits become a 503 with
 * Retry-After (see `computeError`).
 */
export function operationError(
  first: { code?: string | null; message?: string | null },
  action: string,
  httpErrorStatusCode?: number | null,
): AllocatorError {
  const code = first.code ?? 'ERROR';
  const message = `${action}: ${code}: ${first.message ?? ''}`.trim();
  if (RATE_LIMIT_CODES.has(code)) return rateLimited(message);
  if (/QUOTA/.test(code)) return new QuotaExceededError(message);
  if (code === 'RESOURCE_ALREADY_EXISTS') return new AlreadyExistsError(message);
  if (code === 'RESOURCE_NOT_FOUND') return new NotFoundError(message);
  if (code === 'RESOURCE_IN_USE_BY_ANOTHER_RESOURCE') return new DiskInUseError(message);
  if (TRANSIENT_OPERATION_ERRORS.test(code)) return new UnavailableError(message);
  return new ComputeRejectedError(message, { upstreamCode: code, upstreamStatus: httpErrorStatusCode ?? undefined });
}
