import { AllocatorError, AlreadyExistsError, NotFoundError, QuotaExceededError, UnavailableError } from '../errors.ts';

/** A disk is still attached to an instance (GCE answers 400 resourceInUseByAnotherResource). */
export class DiskInUseError extends AllocatorError {
  override readonly name = 'DiskInUseError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(409, 'FAILED_PRECONDITION', message, options);
  }
}

/** Compute Engine refused for a reason that a retry will not fix (a bad disk type, missing IAM roles). */
export class ComputeRejectedError extends AllocatorError {
  override readonly name = 'ComputeRejectedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(500, 'INTERNAL', message, options);
  }
}

/**
 * gRPC codes as google-gax reports Compute Engine's HTTP statuses. Compute
 * Engine's errors carry no `status`, so gax maps the HTTP code: 409 (an insert
 * of a disk that exists) arrives as ABORTED, not ALREADY_EXISTS.
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

/** Maps what a gax call threw to a typed error, keeping the cause. */
export function computeError(error: unknown, action: string): AllocatorError {
  if (error instanceof AllocatorError) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = (error as Error | undefined)?.message ?? String(error);
  const described = `${action}: ${message}`;
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
      return new QuotaExceededError(described, { cause: error });
    case GRPC.INVALID_ARGUMENT:
    case GRPC.FAILED_PRECONDITION:
      if (/being used by|resourceInUseByAnotherResource/i.test(message)) return new DiskInUseError(described, { cause: error });
      return new ComputeRejectedError(described, { cause: error });
    case GRPC.PERMISSION_DENIED:
    case GRPC.UNAUTHENTICATED:
      return new ComputeRejectedError(`${action}: the allocator's credentials are not allowed to do this; check its IAM roles`, {
        cause: error,
      });
    default:
      return new UnavailableError(`${action}: Compute Engine is unavailable`, { cause: error });
  }
}

/** Operation error codes that a later try may not meet: capacity and Compute Engine's own trouble. */
const TRANSIENT_OPERATION_ERRORS =
  /^(INTERNAL_ERROR|ZONE_RESOURCE_POOL_EXHAUSTED.*|RESOURCE_NOT_READY|RATE_LIMIT_EXCEEDED|SERVICE_UNAVAILABLE)$/;

/** Maps the first error of a finished Compute Engine operation (codes such as QUOTA_EXCEEDED, RESOURCE_ALREADY_EXISTS). */
export function operationError(first: { code?: string | null; message?: string | null }, action: string): AllocatorError {
  const code = first.code ?? 'ERROR';
  const message = `${action}: ${code}: ${first.message ?? ''}`.trim();
  if (/QUOTA/.test(code)) return new QuotaExceededError(message);
  if (code === 'RESOURCE_ALREADY_EXISTS') return new AlreadyExistsError(message);
  if (code === 'RESOURCE_NOT_FOUND') return new NotFoundError(message);
  if (code === 'RESOURCE_IN_USE_BY_ANOTHER_RESOURCE') return new DiskInUseError(message);
  if (TRANSIENT_OPERATION_ERRORS.test(code)) return new UnavailableError(message);
  return new ComputeRejectedError(message);
}
