import { BadRequestError } from '../errors.ts';
import type { Field } from './fields.ts';

/** The answer's header that says until when a followed stream runs (RFC 3339): one that ends before then has no more to give. */
export const FOLLOW_UNTIL_HEADER = 'X-Allocator-Follow-Until';

const UNITS: Readonly<Record<string, number>> = { h: 3600, m: 60, s: 1 };
const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
export const DURATION_EXAMPLES = '30s, 5m, 2h or 1h30m';

/**
 * Seconds in a duration written as hours, minutes and seconds, each part
 * optional but in that order: `30s`, `5m`, `2h`, `1h30m`. Zero and anything
 * else are refused, naming the field and the forms it takes.
 */
export function parseDuration(text: string, field: string): number {
  const match = DURATION.exec(text);
  const refuse = (): never => {
    throw new BadRequestError(`"${field}" must be a duration such as ${DURATION_EXAMPLES}; got "${text.slice(0, 40)}"`);
  };
  if (text === '' || !match) return refuse();
  const [, h, m, s] = match;
  const total = Number(h ?? 0) * UNITS.h! + Number(m ?? 0) * UNITS.m! + Number(s ?? 0) * UNITS.s!;
  if (total <= 0 || !Number.isSafeInteger(total)) return refuse();
  return total;
}

/** An RFC 3339 time, as the log API's `sinceTime` takes it (a resume sends a line's own timestamp back). */
export function parseSinceTime(text: string, field: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(text) || Number.isNaN(Date.parse(text)))
    throw new BadRequestError(`"${field}" must be an RFC 3339 time such as 2026-01-02T15:04:05.123456789Z; got "${text.slice(0, 40)}"`);
  return text;
}

/** A whole number of lines, at least 0, from a query string. */
export function parseLineCount(text: string, field: string): number {
  const value = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value))
    throw new BadRequestError(`"${field}" must be a whole number of lines >= 0; got "${text.slice(0, 40)}"`);
  return value;
}

/** A duration in a query (`30s`, `5m`, `2h`, `1h30m`), parsed into seconds. */
export function duration(description: string): Field<number | undefined> {
  return {
    schema: { type: 'string', pattern: '^(\\d+h)?(\\d+m)?(\\d+s)?$', description, examples: ['30s', '5m', '1h30m'] },
    required: false,
    parse: (value, name) => (value === undefined ? undefined : parseDuration(String(value), name)),
  };
}

/** An RFC 3339 time in a query, as a log line's timestamp gives it. */
export function sinceTime(description: string): Field<string | undefined> {
  return {
    schema: { type: 'string', format: 'date-time', description, examples: ['2026-01-02T15:04:05.123456789Z'] },
    required: false,
    parse: (value, name) => (value === undefined ? undefined : parseSinceTime(String(value), name)),
  };
}

/** A number of lines in a query. */
export function lineCount(description: string): Field<number | undefined> {
  return {
    schema: { type: 'integer', minimum: 0, description },
    required: false,
    parse: (value, name) => (value === undefined ? undefined : parseLineCount(String(value), name)),
  };
}

/** A container's name (a DNS label, as Kubernetes requires), optional. */
export function containerName(description: string): Field<string | undefined> {
  return {
    schema: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, description },
    required: false,
    parse: (value, name) => {
      if (value === undefined) return undefined;
      const text = String(value);
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(text) || text.length > 63)
        throw new BadRequestError(`"${name}" must be a container's name (a DNS label); got "${text.slice(0, 63)}"`);
      return text;
    },
  };
}
