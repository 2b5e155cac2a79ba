import { readFileSync } from 'node:fs';
import { load as loadYaml } from 'js-yaml';
import { lengthOf, PARAMETER_LIMITS, PARAMETER_NAME, ruleBrokenBy, type ParameterDeclaration } from '../api/parameters.ts';
import { ConfigError } from './config-error.ts';

export type { ParameterDeclaration };

const KEYS = ['description', 'default', 'enum', 'pattern', 'maxLength'];

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Reads the declarations file (`ALLOCATOR_PARAMETERS`): JSON, or YAML when
 * its name ends in `.yaml` or `.yml`. A file that cannot be read or parsed,
 * or a declaration that breaks a rule, is a ConfigError naming the file and
 * the exact place.
 */
export function loadParameterDeclarations(path: string): readonly ParameterDeclaration[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`ALLOCATOR_PARAMETERS: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
      cause: error,
    });
  }
  let raw: unknown;
  try {
    raw = /\.ya?ml$/.test(path) ? loadYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`ALLOCATOR_PARAMETERS: ${path} is not valid ${/\.ya?ml$/.test(path) ? 'YAML' : 'JSON'}: ${firstLine(error)}`, {
      cause: error,
    });
  }
  return parseParameterDeclarations(raw, path);
}

/**
 * Checks a declarations document: an object mapping each name to
 * `{description, default, enum}` or `{description, default, pattern, maxLength}`.
 * The pattern must be anchored (`^...$`, with any alternatives in a group) so that it rules the whole value.
 */
export function parseParameterDeclarations(raw: unknown, where: string): readonly ParameterDeclaration[] {
  const fail = (message: string): never => {
    throw new ConfigError(`ALLOCATOR_PARAMETERS: ${where}: ${message}`);
  };
  if (raw === null || raw === undefined) return [];
  if (!isRecord(raw)) return fail('must map each parameter name to its declaration, e.g. {"imageTag": {"description": ..., ...}}');
  const names = Object.keys(raw);
  if (names.length > PARAMETER_LIMITS.count) fail(`declares ${names.length} parameters; at most ${PARAMETER_LIMITS.count}`);
  return names.map((name) => parseDeclaration(name, raw[name], fail));
}

/** The declarations as a file holds them (the inverse of parseParameterDeclarations): what the bundle ships, as JSON. */
export function declarationsDocument(declarations: readonly ParameterDeclaration[]): Record<string, Omit<ParameterDeclaration, 'name'>> {
  return Object.fromEntries(declarations.map(({ name, ...declaration }) => [name, declaration]));
}

function parseDeclaration(name: string, raw: unknown, fail: (message: string) => never): ParameterDeclaration {
  if (!PARAMETER_NAME.test(name) || name.length > PARAMETER_LIMITS.nameLength)
    fail(`"${name}" is not a parameter name: a letter, then letters, digits or _, at most ${PARAMETER_LIMITS.nameLength} characters`);
  if (!isRecord(raw)) return fail(`${name} must be an object with description, default, and enum or pattern and maxLength`);
  const stray = Object.keys(raw).find((key) => !KEYS.includes(key));
  if (stray !== undefined) fail(`${name}.${stray} is not a declaration field; they are ${KEYS.join(', ')}`);
  const { description } = raw;
  if (typeof description !== 'string' || description.trim() === '') fail(`${name}.description is missing: say what the parameter does`);
  if ((description as string).length > PARAMETER_LIMITS.descriptionLength)
    fail(`${name}.description is longer than ${PARAMETER_LIMITS.descriptionLength} characters`);
  if (typeof raw.default !== 'string') fail(`${name}.default must be a string (quote numbers and booleans in YAML)`);
  const base = { name, description: description as string, default: raw.default as string };
  const declaration: ParameterDeclaration =
    raw.enum !== undefined ? { ...base, enum: parseEnum(name, raw, fail) } : { ...base, ...parsePattern(name, raw, fail) };
  const broken = ruleBrokenBy(declaration, declaration.default);
  if (broken !== undefined) fail(`${name}.default ${JSON.stringify(declaration.default)} breaks its own rule: ${broken}`);
  return declaration;
}

function parseEnum(name: string, raw: Record<string, unknown>, fail: (message: string) => never): readonly string[] {
  if (raw.pattern !== undefined || raw.maxLength !== undefined) fail(`${name} has both enum and pattern/maxLength: give one rule`);
  const values = raw.enum;
  if (!Array.isArray(values) || values.length === 0 || !values.every((value) => typeof value === 'string'))
    return fail(`${name}.enum must be a non-empty list of strings`);
  if (values.length > PARAMETER_LIMITS.enumValues)
    fail(`${name}.enum lists ${values.length} values; at most ${PARAMETER_LIMITS.enumValues}`);
  if (new Set(values).size !== values.length) fail(`${name}.enum lists a value twice`);
  if (values.some((value) => /\p{Cc}/u.test(value))) fail(`${name}.enum has a value with a control character, which a create may not send`);
  const long = values.find((value) => lengthOf(value) > PARAMETER_LIMITS.valueLength);
  if (long !== undefined) fail(`${name}.enum has a value longer than ${PARAMETER_LIMITS.valueLength} characters`);
  return [...(values as string[])];
}

function parsePattern(
  name: string,
  raw: Record<string, unknown>,
  fail: (message: string) => never,
): { pattern: string; maxLength: number } {
  const { pattern, maxLength } = raw;
  if (typeof pattern !== 'string') return fail(`${name} needs a rule: enum (a list of values), or pattern with maxLength`);
  try {
    new RegExp(pattern, 'u');
  } catch (error) {
    fail(`${name}.pattern is not a valid regular expression: ${firstLine(error)}`);
  }
  // Only a pattern that compiles is read for its anchors.
  if (!isAnchored(pattern))
    fail(
      `${name}.pattern must start with ^ and end with $, so that it rules the whole value; wrap alternatives in a group, ^(?:a|b)$ (got ${JSON.stringify(pattern)})`,
    );
  if (typeof maxLength !== 'number' || !Number.isInteger(maxLength) || maxLength < 1 || maxLength > PARAMETER_LIMITS.valueLength)
    fail(`${name}.maxLength must be a whole number from 1 to ${PARAMETER_LIMITS.valueLength}, the longest value the pattern may take`);
  return { pattern, maxLength: maxLength as number };
}

/**
 * Whether `pattern`, read as a regular expression in Unicode mode, is one
 * alternative from a ^ to a $: a | may stand only inside a group or a class,
 * and the last $ must be neither escaped nor in a class. Read as text,
 * `^v1|v2$` would pass, and take `v1` followed by anything.
 */
function isAnchored(pattern: string): boolean {
  if (!pattern.startsWith('^')) return false;
  let depth = 0;
  let inClass = false;
  for (let i = 1; i < pattern.length; i += 1) {
    const char = pattern[i];
    if (char === '\\') {
      i += 1; // the escaped character, whatever it is
      continue;
    }
    if (inClass) {
      if (char === ']') inClass = false;
      continue;
    }
    if (char === '[') inClass = true;
    else if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    else if (char === '|' && depth === 0) return false;
    else if (char === '$' && depth === 0 && i === pattern.length - 1) return true;
  }
  return false;
}

function firstLine(error: unknown): string {
  return ((error as Error).message ?? String(error)).split('\n')[0] ?? '';
}
