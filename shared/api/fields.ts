import { BadRequestError } from '../errors.ts';
import { isInstanceNameOf } from '../instances/naming.ts';
import type { ParameterDeclaration } from './parameters.ts';

/** The part of JSON Schema (2020-12, as OpenAPI 3.1 uses it) that request fields need. */
export interface JsonSchema {
  readonly type?: 'boolean' | 'integer' | 'string' | 'object' | 'array' | 'number' | 'null' | readonly string[];
  readonly description?: string;
  readonly minimum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
  readonly [keyword: string]: unknown;
}

/** What a field's parser may consult: the server's own settings, never the request's other fields. */
export interface FieldSettings {
  readonly serverName: string;
  /** What a create may choose (`ALLOCATOR_PARAMETERS`); none when absent. */
  readonly parameters?: readonly ParameterDeclaration[];
}

/**
 * One field of a request body or query: its JSON Schema, which the OpenAPI
 * description publishes, and the parser that enforces the same rule on the
 * server. Declaring both side by side keeps them from drifting.
 */
export interface Field<T> {
  readonly schema: JsonSchema;
  /** The schema once the allocator's settings are known, where they shape it (create's `parameters`). */
  readonly schemaFor?: (settings: Pick<FieldSettings, 'parameters'>) => JsonSchema;
  readonly required: boolean;
  parse(value: unknown, name: string, settings: FieldSettings): T;
}

export type FieldSet = Readonly<Record<string, Field<unknown>>>;

/** What a set of fields parses into. */
export type Parsed<F extends FieldSet> = { -readonly [K in keyof F]: F[K] extends Field<infer T> ? T : never };

/** A whole number of seconds, at least `minimum`. */
export function seconds(description: string, minimum: number): Field<number | undefined> {
  return {
    schema: { type: 'integer', minimum, description },
    required: false,
    parse: (value, name) => {
      if (value === undefined) return undefined;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
        throw new BadRequestError(`"${name}" must be a whole number of seconds >= ${minimum}`);
      }
      return value;
    },
  };
}

/** true or false, with a default. */
export function flag(description: string, fallback: boolean): Field<boolean> {
  return {
    schema: { type: 'boolean', default: fallback, description },
    required: false,
    parse: (value, name) => {
      if (value === undefined) return fallback;
      if (typeof value !== 'boolean') throw new BadRequestError(`"${name}" must be true or false`);
      return value;
    },
  };
}

/** The same, from a query string, where it arrives as text. */
export function queryFlag(description: string, fallback: boolean): Field<boolean> {
  return {
    schema: { type: 'boolean', default: fallback, description },
    required: false,
    parse: (value, name) => {
      if (value === undefined) return fallback;
      if (value !== 'true' && value !== 'false') throw new BadRequestError(`"${name}" must be true or false`);
      return value === 'true';
    },
  };
}

/** The name of an instance of this allocator: `<serverName>-<8 hex digits>`. */
export const INSTANCE_NAME_PATTERN = '^[a-z]([-a-z0-9]*[a-z0-9])?-[0-9a-f]{8}$';

/** An instance name, required; one this allocator could not have made is a 400 that shows what they look like. */
export function instanceName(description: string): Field<string> {
  return {
    schema: { type: 'string', pattern: INSTANCE_NAME_PATTERN, maxLength: 63, description, examples: ['syncbased-1a2b3c4d'] },
    required: true,
    parse: (value, name, settings) => {
      if (typeof value !== 'string' || value === '') throw new BadRequestError(`"${name}" is required: ${description.toLowerCase()}`);
      if (!isInstanceNameOf(settings.serverName, value)) {
        throw new BadRequestError(
          `"${value.slice(0, 100)}" is not an instance name of this allocator; they look like ${settings.serverName}-1a2b3c4d`,
        );
      }
      return value;
    },
  };
}

/**
 * Parses `input` by `fields`: unknown fields are refused by name, and each
 * field's parser gives its typed value (or its default).
 */
export function parseFields<F extends FieldSet>(
  fields: F,
  input: Readonly<Record<string, unknown>>,
  settings: FieldSettings,
  what = 'request',
): Parsed<F> {
  const allowed = Object.keys(fields);
  const unknown = Object.keys(input).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    const listed = unknown.map((key) => JSON.stringify(key)).join(', ');
    throw new BadRequestError(
      `unknown ${what === 'query' ? 'query parameter' : 'field'}${unknown.length > 1 ? 's' : ''} ${listed}; this ${what} takes ${allowed.length > 0 ? allowed.join(', ') : 'none'}`,
    );
  }
  const parsed: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(fields)) {
    const value = field.parse(input[name], name, settings);
    if (value !== undefined) parsed[name] = value;
  }
  return parsed as Parsed<F>;
}

/** The JSON Schema of an object made of `fields`, for the OpenAPI description: each field's as `settings` shape it, if given. */
export function objectSchema(fields: FieldSet, settings?: Pick<FieldSettings, 'parameters'>): JsonSchema {
  const required = Object.entries(fields)
    .filter(([, field]) => field.required)
    .map(([name]) => name);
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(
      Object.entries(fields).map(([name, field]) => [name, settings && field.schemaFor ? field.schemaFor(settings) : field.schema]),
    ),
    ...(required.length > 0 ? { required } : {}),
  };
}
