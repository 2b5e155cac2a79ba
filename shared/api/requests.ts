import { BadRequestError } from '../errors.ts';
import { parseFields, type FieldSettings } from './fields.ts';
import { OPERATIONS, type OperationId, type OperationSpec, type RequestOf } from './operations.ts';

/** What a request arrives with, before parsing. */
export interface RawRequest {
  readonly body: Readonly<Record<string, unknown>>;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * Parses a request of `operation` by its entry in the table: the body's and
 * the query's fields, unknown ones refused by name, and the Idempotency-Key
 * of an operation that takes one. Every 400 of a malformed request comes
 * from here.
 */
export function parseRequest<K extends OperationId>(operation: K, raw: RawRequest, settings: FieldSettings): RequestOf<K> {
  const spec: OperationSpec = OPERATIONS[operation];
  const body = parseFields(spec.body ?? {}, raw.body, settings);
  const values = queryValues(raw.query);
  const lastEventId = spec.lastEventId ? raw.headers['last-event-id'] : undefined;
  if (values.since === undefined && lastEventId !== undefined)
    values.since = Array.isArray(lastEventId) ? (lastEventId[0] ?? '') : lastEventId;
  const query = parseFields(spec.query ?? {}, values, settings, 'query');
  const idempotencyKey = spec.idempotent ? parseIdempotencyKey(raw.headers['idempotency-key']) : undefined;
  return { ...body, ...query, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) } as RequestOf<K>;
}

/** The optional `Idempotency-Key` header: 1 to 255 printable ASCII characters. */
export function parseIdempotencyKey(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const key = Array.isArray(value) ? value[0] : value;
  if (key === undefined || !/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new BadRequestError('Idempotency-Key must be 1 to 255 printable ASCII characters without spaces');
  }
  return key;
}

/** How long an operation waits for readiness: what the caller asked, never beyond the allocator's own limit. */
export function waitMsFor(request: { waitTimeoutSeconds?: number }, limitMs: number): number {
  return Math.min(request.waitTimeoutSeconds === undefined ? limitMs : request.waitTimeoutSeconds * 1000, limitMs);
}

/** A query flag that makes an operation an admin's, read before the body (list's `?all=true`), as the parser will read it. */
export function asksForAdmin(operation: OperationId, query: URLSearchParams): boolean {
  const spec: OperationSpec = OPERATIONS[operation];
  const values = queryValues(query);
  return (spec.adminWhen ?? []).some((flag) => values[flag] === 'true');
}

/**
 * The query's parameters, each given once: one given twice is a 400 naming
 * it, since a reader of the first value and a reader of the last (the admin
 * check and the parser, say) would disagree.
 */
export function queryValues(query: URLSearchParams): Record<string, string> {
  const seen = new Set<string>();
  for (const name of query.keys()) {
    if (seen.has(name))
      throw new BadRequestError(
        `query parameter ${JSON.stringify(name.slice(0, 100))} is given ${query.getAll(name).length} times; give it once`,
      );
    seen.add(name);
  }
  return Object.fromEntries(query);
}
