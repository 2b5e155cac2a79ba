import { BadRequestError } from '../errors.ts';
import type { Field, FieldSettings, JsonSchema } from './fields.ts';

/**
 * The bounds on what an operator may declare, and so on what a create may
 * send: at most `count` parameters, each value at most `valueLength`
 * characters, so that the whole fits easily in one annotation.
 */
export const PARAMETER_LIMITS = { count: 32, nameLength: 63, valueLength: 1024, enumValues: 100, descriptionLength: 500 } as const;

/** A parameter's name: what the template writes after `{{Parameters.`, so a Handlebars identifier. */
export const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** What values a parameter takes: one of a list, or text matching an anchored pattern, up to a length. */
export type ParameterRule = { readonly enum: readonly string[] } | { readonly pattern: string; readonly maxLength: number };

/** One parameter a job can choose at create, as the operator declares it (`ALLOCATOR_PARAMETERS`, `shared/config/parameters.ts`). */
export type ParameterDeclaration = {
  readonly name: string;
  readonly description: string;
  /** What an instance gets when its create names no value; it obeys the rule. */
  readonly default: string;
} & ParameterRule;

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Characters as JSON Schema's maxLength counts them: code points. */
export function lengthOf(value: string): number {
  return [...value].length;
}

/** The rule, as the 400 of a value that breaks it states it. */
export function describeRule(declaration: ParameterDeclaration): string {
  return 'enum' in declaration
    ? `one of ${declaration.enum.map((value) => JSON.stringify(value)).join(', ')}`
    : `text matching ${declaration.pattern}, of at most ${declaration.maxLength} characters`;
}

/** How `value` breaks the declaration's rule; undefined if it obeys. */
export function ruleBrokenBy(declaration: ParameterDeclaration, value: string): string | undefined {
  const rule = `it must be ${describeRule(declaration)}`;
  // Values are shown to everyone who lists the instance: a control character would reach their terminals.
  if (/\p{Cc}/u.test(value)) return `${rule}, without control characters`;
  if ('enum' in declaration) return declaration.enum.includes(value) ? undefined : rule;
  // In Unicode mode a pair is one code point, so this finds only lone surrogates, which no API server keeps as sent.
  if (/[\uD800-\uDFFF]/u.test(value)) return `${rule}, in well-formed Unicode (it holds a lone surrogate)`;
  if (lengthOf(value) > declaration.maxLength) return `${rule} (it has ${lengthOf(value)})`;
  return wholeValue(declaration.pattern).test(value) ? undefined : rule;
}

/**
 * The pattern, made to rule the whole value whatever it says: `^v1|v2$`
 * anchors only its first alternative at the start and its last at the end.
 * The allocator's own declarations are anchored already (checked at load);
 * this also holds for ones read back from another allocator's document.
 */
function wholeValue(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, 'u');
}

/** The value of every declared parameter when a create names none. */
export function parameterDefaults(declarations: readonly ParameterDeclaration[]): Record<string, string> {
  return Object.fromEntries(declarations.map((declaration) => [declaration.name, declaration.default]));
}

/** A value as a 400 quotes it: JSON escapes C0, and DEL and C1 are escaped too, so the message carries no control character. */
const shown = (value: string): string =>
  JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value).replace(
    /[\u007f-\u009f]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/**
 * A create's `parameters`, checked against the declarations, with every
 * parameter it does not name at its default. Each 400 names the parameter
 * and its rule.
 */
export function resolveParameters(
  declarations: readonly ParameterDeclaration[],
  value: unknown,
  field = 'parameters',
): Record<string, string> {
  const resolved = parameterDefaults(declarations);
  if (value === undefined) return resolved;
  const takes =
    declarations.length === 0
      ? 'this allocator takes no parameters'
      : `this allocator takes ${declarations.map((declaration) => declaration.name).join(', ')}`;
  if (!isRecord(value)) throw new BadRequestError(`"${field}" must be an object of parameter names and string values; ${takes}`);
  const names = Object.keys(value);
  if (names.length > PARAMETER_LIMITS.count)
    throw new BadRequestError(
      `"${field}" names ${names.length} parameters, over the ${PARAMETER_LIMITS.count} any allocator takes; ${takes}`,
    );
  const unknown = names.filter((name) => !declarations.some((declaration) => declaration.name === name));
  if (unknown.length > 0) {
    const listed = unknown
      .slice(0, 5)
      .map((name) => shown(name))
      .join(', ');
    throw new BadRequestError(`unknown parameter${unknown.length > 1 ? 's' : ''} ${listed}${unknown.length > 5 ? ', …' : ''}; ${takes}`);
  }
  for (const declaration of declarations) {
    // Own keys only: a parameter may be named like an Object method (`constructor`).
    const given = Object.hasOwn(value, declaration.name) ? value[declaration.name] : undefined;
    if (given === undefined) continue;
    if (typeof given !== 'string')
      throw new BadRequestError(
        `parameter "${declaration.name}" must be a string: ${describeRule(declaration)} (got ${given === null ? 'null' : Array.isArray(given) ? 'a list' : typeof given})`,
      );
    const broken = ruleBrokenBy(declaration, given);
    if (broken !== undefined) throw new BadRequestError(`parameter "${declaration.name}" is ${shown(given)}: ${broken}`);
    resolved[declaration.name] = given;
  }
  return resolved;
}

/** The JSON Schema of one declared parameter, as the OpenAPI description publishes it. */
function declarationSchema(declaration: ParameterDeclaration): JsonSchema {
  return {
    type: 'string',
    description: declaration.description,
    default: declaration.default,
    ...('enum' in declaration ? { enum: [...declaration.enum] } : { pattern: declaration.pattern, maxLength: declaration.maxLength }),
  };
}

/** The JSON Schema of a create's `parameters` under these declarations: each by name, nothing else. */
export function parametersSchema(declarations: readonly ParameterDeclaration[], description: string): JsonSchema {
  return {
    type: 'object',
    description: declarations.length === 0 ? `${description} This allocator declares none.` : description,
    additionalProperties: false,
    maxProperties: declarations.length,
    properties: Object.fromEntries(declarations.map((declaration) => [declaration.name, declarationSchema(declaration)])),
  };
}

/**
 * Create's `parameters` field: an object of the declared parameters' values.
 * Given, it parses into every declared parameter's value, defaults filled in; its
 * schema, once the allocator's declarations are known, lists each of them.
 */
export function parametersField(description: string): Field<Record<string, string> | undefined> {
  return {
    schema: {
      type: 'object',
      description,
      additionalProperties: { type: 'string', maxLength: PARAMETER_LIMITS.valueLength },
      maxProperties: PARAMETER_LIMITS.count,
    },
    schemaFor: (settings: Pick<FieldSettings, 'parameters'>) => parametersSchema(settings.parameters ?? [], description),
    required: false,
    // Absent, it stays absent: the plan gives every parameter its default.
    parse: (value, name, settings) => (value === undefined ? undefined : resolveParameters(settings.parameters ?? [], value, name)),
  };
}

/**
 * The declarations an allocator publishes in its `/openapi.json`, read back
 * from create's request body (what `allocator parameters` and the dashboard
 * show). Throws, naming the place, on a document that does not describe them.
 */
export function parameterDeclarationsOf(document: unknown): ParameterDeclaration[] {
  const paths = isRecord(document) && isRecord(document.paths) ? document.paths : undefined;
  if (paths === undefined) throw new Error('the OpenAPI document has no paths');
  const create = Object.values(paths)
    .flatMap((item) => (isRecord(item) ? Object.values(item) : []))
    .find((operation) => isRecord(operation) && operation['x-allocator-operation'] === 'create' && operation.operationId === 'create');
  const body = (create as { requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> } } | undefined)
    ?.requestBody?.content?.['application/json']?.schema?.properties;
  if (body === undefined) throw new Error("the OpenAPI document does not describe create's request body");
  const parameters = body.parameters;
  // An allocator from before parameters takes none.
  if (parameters === undefined) return [];
  const properties = isRecord(parameters) && isRecord(parameters.properties) ? parameters.properties : {};
  return Object.entries(properties).map(([name, raw]) => {
    const fail = (what: string): never => {
      throw new Error(`the OpenAPI document's parameter ${name} ${what}`);
    };
    if (!isRecord(raw)) return fail('is not an object');
    const description = typeof raw.description === 'string' ? raw.description : '';
    if (typeof raw.default !== 'string') return fail('has no default');
    if (Array.isArray(raw.enum) && raw.enum.every((value) => typeof value === 'string'))
      return { name, description, default: raw.default, enum: raw.enum as string[] };
    if (typeof raw.pattern === 'string' && Number.isInteger(raw.maxLength))
      return { name, description, default: raw.default, pattern: raw.pattern, maxLength: raw.maxLength as number };
    return fail('has neither an enum nor a pattern with maxLength');
  });
}
