import { describe, expect, it } from 'vitest';
import { AllocatorError, AlreadyExistsError, NotFoundError, QuotaExceededError, UnavailableError } from '../../../../shared/errors.ts';
import {
  COMPUTE_RATE_LIMIT_RETRY_AFTER_SECONDS,
  ComputeRejectedError,
  computeError,
  DiskInUseError,
  operationError,
  StaleFingerprintError,
} from '../../../../shared/gce/compute-errors.ts';

/** What google-gax throws: an Error with the gRPC code it mapped the HTTP status to (and, from its REST transport, the status). */
const gax = (code: number | undefined, message: string, extra: { httpStatusCode?: number; reason?: string } = {}) =>
  Object.assign(new Error(message), code === undefined ? {} : { code }, extra);

describe('computeError', () => {
  it.each([
    [5, 'The resource was not found', NotFoundError, 404],
    [10, "The resource 'projects/p/zones/z/disks/d' already exists", AlreadyExistsError, 409],
    [10, 'Operation was aborted', UnavailableError, 503],
    [6, 'already exists', AlreadyExistsError, 409],
    [8, 'Quota exceeded', QuotaExceededError, 429],
    [3, "The disk resource 'd' is already being used by 'vm'", DiskInUseError, 409],
    [9, 'Labels fingerprint either invalid or resource labels have changed', StaleFingerprintError, 409],
    [3, "Invalid value for field 'resource.type'", ComputeRejectedError, 500],
    [7, 'Required permission compute.disks.create', ComputeRejectedError, 500],
    [16, 'Request had invalid authentication credentials', ComputeRejectedError, 500],
    [14, 'Service unavailable', UnavailableError, 503],
    [undefined, 'socket hang up', UnavailableError, 503],
  ] as const)('code %s (%s) -> %s', (code, message, kind, status) => {
    const cause = gax(code, message);
    const mapped = computeError(cause, 'create disk d');
    expect(mapped).toBeInstanceOf(kind);
    expect(mapped.status).toBe(status);
    expect(mapped.cause).toBe(cause);
  });

  it.each([
    [7, 'Rate Limit Exceeded', { httpStatusCode: 403 }],
    [7, 'User Rate Limit Exceeded', { httpStatusCode: 403 }],
    [7, 'Quota on concurrent operations exceeded', { httpStatusCode: 403, reason: 'CONCURRENT_OPERATIONS_QUOTA_EXCEEDED' }],
    [8, "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute'", { httpStatusCode: 429, reason: 'RATE_LIMIT_EXCEEDED' }],
    [8, 'rateLimitExceeded', {}],
  ] as const)('code %s (%s) is a rate limit: 503 with Retry-After', (code, message, extra) => {
    const cause = gax(code, message, extra);
    const mapped = computeError(cause, 'create disk d');
    expect(mapped).toBeInstanceOf(UnavailableError);
    expect(mapped).toMatchObject({ status: 503, statusName: 'UNAVAILABLE', retryAfterSeconds: COMPUTE_RATE_LIMIT_RETRY_AFTER_SECONDS });
    expect(mapped.message).toContain(message);
    expect(mapped.cause).toBe(cause);
  });

  it.each([
    [3, "Invalid value for field 'resource.type'", { httpStatusCode: 400 }, 400, 'INVALID_ARGUMENT'],
    [3, "Invalid value for field 'resource.type'", {}, 400, 'INVALID_ARGUMENT'],
    [7, 'Required permission compute.disks.create', { httpStatusCode: 403 }, 403, 'PERMISSION_DENIED'],
    [7, 'Required permission compute.disks.create', {}, 403, 'PERMISSION_DENIED'],
    [16, 'Request had invalid authentication credentials', { httpStatusCode: 401 }, 401, 'UNAUTHENTICATED'],
    [9, 'Precondition failed', { httpStatusCode: 412 }, 412, 'FAILED_PRECONDITION'],
    [9, 'Precondition failed', {}, undefined, 'FAILED_PRECONDITION'],
  ] as const)("code %s (%s, %o) stays a 500 that keeps Compute's %s %s", (code, message, extra, upstreamStatus, upstreamCode) => {
    const mapped = computeError(gax(code, message, extra), 'create disk d');
    expect(mapped).toBeInstanceOf(ComputeRejectedError);
    expect(mapped).toMatchObject({ status: 500, statusName: 'INTERNAL', upstreamStatus, upstreamCode, retryAfterSeconds: undefined });
    expect(mapped.message).toContain(upstreamStatus === undefined ? upstreamCode : `HTTP ${upstreamStatus} ${upstreamCode}`);
  });

  it('passes our own errors through', () => {
    const ours = new QuotaExceededError('x');
    expect(computeError(ours, 'a')).toBe(ours);
  });
});

describe('operationError', () => {
  it.each([
    ['QUOTA_EXCEEDED', QuotaExceededError, 429],
    ['RESOURCE_ALREADY_EXISTS', AlreadyExistsError, 409],
    ['RESOURCE_NOT_FOUND', NotFoundError, 404],
    ['RESOURCE_IN_USE_BY_ANOTHER_RESOURCE', DiskInUseError, 409],
    ['ZONE_RESOURCE_POOL_EXHAUSTED', UnavailableError, 503],
    ['ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS', UnavailableError, 503],
    ['INTERNAL_ERROR', UnavailableError, 503],
  ] as const)('%s -> %s', (code, kind, status) => {
    const mapped: AllocatorError = operationError({ code, message: 'details' }, 'create disk d');
    expect(mapped).toBeInstanceOf(kind);
    expect(mapped.status).toBe(status);
    expect(mapped.message).toBe(`create disk d: ${code}: details`);
    expect(mapped.retryAfterSeconds).toBeUndefined();
  });

  it.each(['RESOURCE_OPERATION_RATE_EXCEEDED', 'RATE_LIMIT_EXCEEDED', 'CONCURRENT_OPERATIONS_QUOTA_EXCEEDED'])(
    '%s is a rate limit: 503 with Retry-After',
    (code) => {
      const mapped = operationError({ code, message: 'Too frequent operations from the source resource.' }, 'create disk d', 403);
      expect(mapped).toBeInstanceOf(UnavailableError);
      expect(mapped).toMatchObject({ status: 503, retryAfterSeconds: COMPUTE_RATE_LIMIT_RETRY_AFTER_SECONDS });
      expect(mapped.message).toContain(`create disk d: ${code}: Too frequent operations from the source resource.`);
    },
  );

  it.each([
    ['INVALID_FIELD_VALUE', 400, 'create disk d: INVALID_FIELD_VALUE: details (Compute Engine answered HTTP 400 INVALID_FIELD_VALUE)'],
    ['UNSUPPORTED_OPERATION', null, 'create disk d: UNSUPPORTED_OPERATION: details (Compute Engine answered UNSUPPORTED_OPERATION)'],
    [null, undefined, 'create disk d: ERROR: details (Compute Engine answered ERROR)'],
  ] as const)('%s (HTTP %s) -> a 500 that keeps the upstream code', (code, httpStatus, message) => {
    const mapped = operationError({ code, message: 'details' }, 'create disk d', httpStatus);
    expect(mapped).toBeInstanceOf(ComputeRejectedError);
    expect(mapped).toMatchObject({ status: 500, upstreamStatus: httpStatus ?? undefined, upstreamCode: code ?? 'ERROR', message });
  });
});
