import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  BadRequestError,
  AlreadyExistsError,
  DeadlineExceededError,
  FailedPreconditionError,
  INTERNAL_MESSAGE,
  InternalError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  QuotaExceededError,
  toHttpError,
  UnauthenticatedError,
  UnavailableError,
} from '../../../shared/errors.ts';

describe('toHttpError', () => {
  it.each([
    [new BadRequestError('bad name'), 400, 'INVALID_ARGUMENT'],
    [new FailedPreconditionError('cannot start'), 400, 'FAILED_PRECONDITION'],
    [new UnauthenticatedError('no token'), 401, 'UNAUTHENTICATED'],
    [new PermissionDeniedError('no'), 403, 'PERMISSION_DENIED'],
    [new NotFoundError('gone'), 404, 'NOT_FOUND'],
    [new MethodNotAllowedError('PUT', ['POST']), 405, 'METHOD_NOT_ALLOWED'],
    [new AlreadyExistsError('exists'), 409, 'ALREADY_EXISTS'],
    [new PayloadTooLargeError(1024), 413, 'PAYLOAD_TOO_LARGE'],
    [new QuotaExceededError('limit'), 429, 'RESOURCE_EXHAUSTED'],
    [new UnavailableError('down'), 503, 'UNAVAILABLE'],
    [new DeadlineExceededError('slow'), 504, 'DEADLINE_EXCEEDED'],
    [new InternalError('broken'), 500, 'INTERNAL'],
  ])('maps %o to %i %s', (error, status, statusName) => {
    expect(toHttpError(error)).toMatchObject({ status, body: { error: { code: status, status: statusName, message: error.message } } });
  });

  it('adds WWW-Authenticate to 401 and Allow to 405', () => {
    expect(toHttpError(new UnauthenticatedError('x')).headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
    expect(toHttpError(new MethodNotAllowedError('PUT', ['GET', 'HEAD'])).headers).toEqual({ Allow: 'GET, HEAD' });
  });

  it.each([
    [new AbortedError('busy', { retryAfterSeconds: 5 }), 409, { 'Retry-After': '5' }],
    [new QuotaExceededError('rate limited', { retryAfterSeconds: 60 }), 429, { 'Retry-After': '60' }],
    [new UnavailableError('rate limited', { retryAfterSeconds: 30 }), 503, { 'Retry-After': '30' }],
    [new UnavailableError('fractional', { retryAfterSeconds: 1.2 }), 503, { 'Retry-After': '2' }],
    [new QuotaExceededError('pool full'), 429, {}],
    [new UnavailableError('down'), 503, {}],
  ])('sends the retry hint of %o as Retry-After (%i)', (error, status, headers) => {
    const mapped = toHttpError(error);
    expect(mapped.status).toBe(status);
    expect(mapped.headers).toEqual(headers);
  });

  it('maps an unexpected error through InternalError', () => {
    const cause = new TypeError('boom');
    expect(toHttpError(cause)).toEqual(toHttpError(new InternalError(INTERNAL_MESSAGE, { cause })));
  });

  it('hides the details of an unexpected error', () => {
    const mapped = toHttpError(new TypeError('secret internals at /srv/app.js:12'));
    expect(mapped).toEqual({
      status: 500,
      headers: {},
      body: { error: { code: 500, status: 'INTERNAL', message: 'internal error; see the function logs' } },
    });
  });
});
