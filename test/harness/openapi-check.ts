import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** One answer a function sent: which operation (by the table's id) and what it said. */
export interface Answer {
  readonly operation: string;
  readonly method: string;
  readonly status: number;
  readonly body: unknown;
  /** A progress stream's lines, parsed: each is checked, and the last one's answer as the answer of its status. */
  readonly lines?: readonly unknown[];
}

interface OperationObject {
  readonly 'x-allocator-operation'?: string;
  readonly responses?: Readonly<Record<string, { content?: Readonly<Record<string, { schema?: unknown }>> }>>;
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
  /** Checks `body` against the schema the description gives `status` with `contentType`; what is wrong, or undefined. */
  const checkBody = (
    answer: Pick<Answer, 'operation' | 'method'>,
    status: number,
    contentType: string,
    body: unknown,
  ): string | undefined => {
    const found = operations.get(`${answer.operation} ${answer.method}`);
    if (!found) return `${answer.method} of operation ${answer.operation} is not in the description`;
    const response = found.operation.responses?.[String(status)];
    if (!response) {
      const declared = Object.keys(found.operation.responses ?? {}).join(', ');
      return `${answer.operation} answered ${status}, which its description does not declare (it declares ${declared})`;
    }
    if (!response.content?.[contentType]?.schema) {
      return contentType === 'application/json' ? undefined : `${answer.operation} ${status} declares no ${contentType} answer`;
    }
    const pointer = ['paths', found.path, found.method, 'responses', String(status), 'content', contentType, 'schema']
      .map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1'))
      .join('/');
    const ref = `${id}#/${pointer}`;
    let validate = validators.get(ref);
    if (!validate) {
      validate = ajv.compile({ $ref: ref });
      validators.set(ref, validate);
    }
    if (validate(body)) return undefined;
    return `${answer.operation} ${status}: ${ajv.errorsText(validate.errors)} in ${String(JSON.stringify(body)).slice(0, 300)}`;
  };
  return (answer) => {
    if (answer.lines === undefined) return checkBody(answer, answer.status, 'application/json', answer.body);
    const problems = answer.lines.map((line) => checkBody(answer, answer.status, 'application/x-ndjson', line));
    const last = answer.lines.at(-1) as { status?: number; answer?: unknown; error?: unknown } | undefined;
    if (typeof last?.status !== 'number') problems.push(`${answer.operation}'s progress stream ended without its answer`);
    else problems.push(checkBody(answer, last.status, 'application/json', 'answer' in last ? last.answer : { error: last.error }));
    return problems.filter((problem) => problem !== undefined).join('; ') || undefined;
  };
}
