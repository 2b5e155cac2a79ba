import { BadRequestError } from '../errors.ts';

/** The raw body as a JSON object: the framework's parsing depends on Content-Type, ours does not. */
export function parseBody(rawBody: Buffer | undefined): Record<string, unknown> {
  const text = rawBody?.toString('utf8').trim() ?? '';
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BadRequestError('request body is not valid JSON', { cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BadRequestError('request body must be a JSON object');
  return value as Record<string, unknown>;
}

/** Refuses fields a request does not take, naming them. */
export function rejectUnknownFields(body: Readonly<Record<string, unknown>>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0)
    throw new BadRequestError(
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => JSON.stringify(key)).join(', ')}; this request takes ${allowed.length > 0 ? allowed.join(', ') : 'no fields'}`,
    );
}
