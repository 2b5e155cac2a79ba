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
