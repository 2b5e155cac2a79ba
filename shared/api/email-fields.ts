import { BadRequestError } from '../errors.ts';
import type { Field } from './fields.ts';

const CONTROL = /\p{Cc}/u;

/** The 400 of an email with a control character: it would reach the terminals of whoever lists the instance. */
function controlIn(value: string, name: string): BadRequestError | undefined {
  const char = CONTROL.exec(value)?.[0];
  if (char === undefined) return undefined;
  const code = `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  return new BadRequestError(`"${name}" holds a control character (${code}); an email has none`);
}

/** The most emails one request names: more than any allocator's ALLOCATOR_MAX_COLLABORATORS needs, and a bound on the body. */
export const MAX_EMAILS = 100;

/** One email, required; whether it may be given the instance is the executor's to say (a 400 that names it). */
export function email(description: string): Field<string> {
  return {
    schema: { type: 'string', format: 'email', maxLength: 254, description, examples: ['ada@example.com'] },
    required: true,
    parse: (value, name) => {
      if (typeof value !== 'string' || value.trim() === '')
        throw new BadRequestError(`"${name}" is required: ${description.toLowerCase()}`);
      if (value.length > 254) throw new BadRequestError(`"${name}" is longer than an email may be`);
      const control = controlIn(value, name);
      if (control) throw control;
      return value;
    },
  };
}

/** A list of 1 to MAX_EMAILS emails, required. */
export function emails(description: string): Field<string[]> {
  return {
    schema: {
      type: 'array',
      items: { type: 'string', format: 'email', maxLength: 254 },
      minItems: 1,
      maxItems: MAX_EMAILS,
      description,
      examples: [['ada@example.com']],
    },
    required: true,
    parse: (value, name) => {
      if (
        !Array.isArray(value) ||
        value.length === 0 ||
        value.length > MAX_EMAILS ||
        !value.every((entry) => typeof entry === 'string' && entry.length <= 254)
      )
        throw new BadRequestError(`"${name}" must be a list of 1 to ${MAX_EMAILS} emails`);
      for (const entry of value as string[]) {
        const control = controlIn(entry, name);
        if (control) throw control;
      }
      return value as string[];
    },
  };
}
