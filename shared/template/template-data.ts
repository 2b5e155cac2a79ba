/**
 * The fields a deployment template sees, with the seed's encodings. Every
 * field is escaped for the inside of a JSON (or YAML double-quoted) string,
 * and CreatorInfo is a whole string literal, so no caller-controlled text can
 * end a string and add a field.
 */
export interface TemplateData {
  readonly Name: string;
  /** `{"In": [caller, admins...]}`, escaped to sit inside a JSON string. */
  readonly AccessList: string;
  readonly MountName: string;
  /** A complete JSON string literal, quotes included, holding `{"email", "mountName", ...}`. */
  readonly CreatorInfo: string;
  readonly OwnerHash: string;
  readonly Version: string;
  /** Each declared parameter's value for this instance (`{{Parameters.imageTag}}`), escaped like the rest. */
  readonly Parameters: Readonly<Record<string, string>>;
}

export const TEMPLATE_FIELDS = ['Name', 'AccessList', 'MountName', 'CreatorInfo', 'OwnerHash', 'Version', 'Parameters'] as const;

/** The creator info an instance carries as an annotation. */
export interface CreatorInfo {
  readonly email: string;
  readonly mountName: string;
  readonly createdAt: string;
  readonly allocator: string;
}

/**
 * A JSON string literal with every non-ASCII character escaped as `\uXXXX`,
 * so it means the same in JSON and in YAML double-quoted strings (where raw
 * U+2028 and friends could be read as line breaks).
 */
export function jsonStringLiteral(value: string): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The inside of a JSON string literal: `value` escaped, without the quotes. */
export function jsonStringContent(value: string): string {
  return jsonStringLiteral(value).slice(1, -1);
}

export function makeTemplateData(input: {
  name: string;
  /** The owner first, then the admins, each once. */
  accessList: readonly string[];
  mountName: string;
  ownerHash: string;
  version: string;
  creatorInfo: CreatorInfo;
  /** The instance's parameters, every declared one with its value; none by default. */
  parameters?: Readonly<Record<string, string>>;
}): TemplateData {
  return {
    Name: jsonStringContent(input.name),
    AccessList: jsonStringContent(JSON.stringify({ In: input.accessList })),
    MountName: jsonStringContent(input.mountName),
    CreatorInfo: jsonStringLiteral(JSON.stringify(input.creatorInfo)),
    OwnerHash: jsonStringContent(input.ownerHash),
    Version: jsonStringContent(input.version),
    Parameters: parametersObject(input.parameters ?? {}),
  };
}

/**
 * The escaped values without Object's prototype, so that a template's
 * `{{Parameters.constructor}}` is an undeclared parameter (strict mode's
 * error) rather than Object's. Handlebars names the object in that error, so
 * it still converts to text.
 */
function parametersObject(parameters: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const object = Object.create(null, { [Symbol.toPrimitive]: { value: () => '[object Object]' } }) as Record<string, string>;
  for (const [name, value] of Object.entries(parameters)) object[name] = jsonStringContent(value);
  return object;
}
