import { describe, expect, it } from 'vitest';
import { AllocatorError, AlreadyExistsError, NotFoundError, QuotaExceededError, UnavailableError } from '../../../../shared/errors.ts';
import { ComputeRejectedError, computeError, DiskInUseError, operationError } from '../../../../shared/gce/compute-errors.ts';

/** What google-gax throws: an Error with the gRPC code it mapped the HTTP status to. */
const gax = (code: number | undefined, message: string) => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('computeError', () => {
  it.each([
    [5, 'The resource was not found', NotFoundError, 404],
    [10, "The resource 'projects/p/zones/z/disks/d' already exists", AlreadyExistsError, 409],
    [10, 'Operation was aborted', UnavailableError, 503],
    [6, 'already exists', AlreadyExistsError, 409],
    [8, 'Quota exceeded', QuotaExceededError, 429],
    [3, "The disk resource 'd' is already being used by 'vm'", DiskInUseError, 409],
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
    ['INVALID_FIELD_VALUE', ComputeRejectedError, 500],
    ['UNSUPPORTED_OPERATION', ComputeRejectedError, 500],
    [null, ComputeRejectedError, 500],
  ] as const)('%s -> %s', (code, kind, status) => {
    const mapped: AllocatorError = operationError({ code, message: 'details' }, 'create disk d');
    expect(mapped).toBeInstanceOf(kind);
    expect(mapped.status).toBe(status);
    expect(mapped.message).toBe(`create disk d: ${code ?? 'ERROR'}: details`);
  });
});
