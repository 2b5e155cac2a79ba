/**
 * The JSON the functions answer, shared by the server and the typed client,
 * with the checks the client runs on what it receives. The published client
 * imports nothing else from shared/.
 */

/** An instance, as create, extend and list answer it. */
export interface Instance {
  readonly name: string;
  readonly owner: string;
  readonly mountName: string;
  readonly accessList: { readonly In: readonly string[] };
  readonly creationTime: string;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly version: string;
  readonly disk: string;
  /** When the cleanup sweep destroys it; null: never. */
  readonly expiresAt: string | null;
}

/** An answer that is not what the API promises (a proxy's error page, another version of the server). */
export class InvalidAnswerError extends Error {
  override readonly name = 'InvalidAnswerError';
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Checks that `value` is an Instance as the functions answer it, naming the first field that is not. */
export function parseInstance(value: unknown, where = 'instance'): Instance {
  if (!isRecord(value)) throw new InvalidAnswerError(`${where} is not an object`);
  const fail = (field: string, what: string): never => {
    throw new InvalidAnswerError(`${where}.${field} is not ${what}`);
  };
  for (const field of ['name', 'owner', 'mountName', 'creationTime', 'version', 'disk'] as const) {
    if (typeof value[field] !== 'string') fail(field, 'a string');
  }
  for (const field of ['replicas', 'readyReplicas'] as const) {
    if (!Number.isInteger(value[field])) fail(field, 'a whole number');
  }
  const accessList = value.accessList;
  if (!isRecord(accessList) || !Array.isArray(accessList.In) || !accessList.In.every((entry) => typeof entry === 'string')) fail('accessList', '{"In": [strings]}');
  if (value.expiresAt !== null && typeof value.expiresAt !== 'string') fail('expiresAt', 'a string or null');
  return value as unknown as Instance;
}

/** Checks list's answer, `{"instances": [...]}`. */
export function parseInstanceList(value: unknown): Instance[] {
  if (!isRecord(value) || !Array.isArray(value.instances)) throw new InvalidAnswerError('the answer has no "instances" list');
  return value.instances.map((instance, index) => parseInstance(instance, `instances[${index}]`));
}
