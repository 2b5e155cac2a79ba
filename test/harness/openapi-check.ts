import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** One answer a function sent: which operation (by the table's id) and what it said. */
export interface Answer {
  readonly operation: string;
  readonly method: string;
  readonly status: number;
  readonly body: unknown;
}

interface OperationObject {
  readonly 'x-allocator-operation'?: string;
  readonly responses?: Readonly<Record<string, { content?: { 'application/json'?: { schema?: unknown } } }>>;
}

/**
 * Checks answers against an OpenAPI 3.1 description with ajv (JSON Schema
 * 2020-12, as OpenAPI 3.1 uses it): the status must be one the operation
 * declares, and the body must match that status's schema. Returns what is
 * wrong, or undefined.
 */
export function makeAnswerChecker(document: Record<string, unknown>): (answer: Answer) => string | undefined {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const id = 'https://allocator.invalid/openapi.json';
  ajv.addSchema({ ...document, $id: id });
  const validators = new Map<string, ValidateFunction>();
  const operations = new Map<string, { path: string; method: string; operation: OperationObject }>();
  for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, OperationObject>>)) {
    for (const [method, operation] of Object.entries(item)) {
      const key = `${operation['x-allocator-operation']} ${method.toUpperCase()}`;
      operations.set(key, { path, method, operation });
    }
  }
  return (answer) => {
    const found = operations.get(`${answer.operation} ${answer.method}`);
    if (!found) return `${answer.method} of operation ${answer.operation} is not in the description`;
    const response = found.operation.responses?.[String(answer.status)];
    if (!response) {
      const declared = Object.keys(found.operation.responses ?? {}).join(', ');
      return `${answer.operation} answered ${answer.status}, which its description does not declare (it declares ${declared})`;
    }
    if (!response.content?.['application/json']?.schema) return undefined;
    const pointer = ['paths', found.path, found.method, 'responses', String(answer.status), 'content', 'application/json', 'schema']
      .map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1'))
      .join('/');
    const ref = `${id}#/${pointer}`;
    let validate = validators.get(ref);
    if (!validate) {
      validate = ajv.compile({ $ref: ref });
      validators.set(ref, validate);
    }
    if (validate(answer.body)) return undefined;
    return `${answer.operation} ${answer.status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(answer.body).slice(0, 300)}`;
  };
}
