import { objectSchema, type FieldSettings, type JsonSchema } from './fields.ts';
import { COMMON_ERRORS, FUNCTION_NAMES, OPERATIONS, type FunctionName, type OperationId, type OperationSpec } from './operations.ts';
import type { ParameterDeclaration } from './parameters.ts';
import { SCHEMAS } from './schemas.ts';
import { PROGRESS_CONTENT_TYPE } from './progress.ts';
import { SIGN_IN_EXTENSION, type SignInSettings } from './sign-in.ts';

/** The canonical status name each HTTP status answers with (Google's). */
const STATUS_TEXT: Readonly<Record<number, string>> = {
  400:
    'INVALID_ARGUMENT: a malformed body or query, an unknown field, a bad instance name; ' +
    "or FAILED_PRECONDITION (create, resume, reset): the instance's pods report a problem that waiting will not mend, such as an image that does not exist",
  401: 'UNAUTHENTICATED: a missing or invalid ID token (with WWW-Authenticate: Bearer)',
  403: 'PERMISSION_DENIED: a caller outside the allowed callers, or an admin operation from a non-admin',
  404: 'NOT_FOUND: no such instance, or not yours',
  405: 'METHOD_NOT_ALLOWED: a method the path does not take (with Allow)',
  409: 'ABORTED: another operation holds the instance (with Retry-After; retry), or ALREADY_EXISTS (do not retry)',
  413: 'PAYLOAD_TOO_LARGE: a body over 64 KiB',
  429: 'RESOURCE_EXHAUSTED: a limit or a quota was reached (with Retry-After where a later try may succeed)',
  500: 'INTERNAL: the cluster or Compute Engine refused for good; retrying will not help',
  503: 'UNAVAILABLE: Kubernetes or Compute Engine unavailable; retry later',
  504: 'DEADLINE_EXCEEDED: the instance was not ready in time, or a disk was not released in time',
};

/** Where the three functions of one allocator are: `<allocator>-create`, `-destroy` and `-list`, as deployed. */
export interface FunctionUrls {
  /** The common part, as an OpenAPI server URL. */
  readonly server: string;
  /** Each function's path below `server`. */
  readonly paths: Readonly<Record<FunctionName, string>>;
}

/**
 * The functions' locations for an allocator value such as
 * `https://us-central1-my-project.cloudfunctions.net/syncbase-allocator`
 * (its functions are `…/syncbase-allocator-create` and so on). Without one,
 * or for one that puts `{function}` in its host, the document names each
 * function by its short name and says so.
 */
export function functionUrls(allocator?: string): FunctionUrls {
  if (allocator === undefined || allocator.includes('{function}'))
    return { server: '/', paths: { create: '/create', destroy: '/destroy', list: '/list' } };
  const url = new URL(allocator.trim().replace(/\/+$/, ''));
  const paths = Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, `${url.pathname}-${fn}`])) as Record<FunctionName, string>;
  return { server: url.origin, paths };
}

/**
 * The OpenAPI 3.1 description of the HTTP API, generated from the table of
 * operations and the answers' schemas: nothing in it is written twice.
 */
export function openApiDocument(options: {
  allocator?: string;
  version: string;
  /** What `allocator login` signs in with, when the allocator has a CLI client. */
  signIn?: SignInSettings;
  /** The parameters create takes (`ALLOCATOR_PARAMETERS`), each described under create's `parameters`; none by default. */
  parameters?: readonly ParameterDeclaration[];
}): Record<string, unknown> {
  const settings = { parameters: options.parameters ?? [] };
  const urls = functionUrls(options.allocator);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [id, spec] of Object.entries(OPERATIONS) as [OperationId, OperationSpec][]) {
    const path = `${urls.paths[spec.function]}${spec.path === '/' ? '' : spec.path}`;
    const item = (paths[path] ??= {});
    spec.methods.forEach((method, index) => {
      item[method.toLowerCase()] = operationObject(id, spec, index === 0 ? id : `${id}${capitalize(method.toLowerCase())}`, settings);
    });
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Allocator',
      version: options.version,
      description:
        'Self-service test instances on Kubernetes. Every call carries a Google ID token as `Authorization: Bearer <token>`' +
        (urls.server === '/'
          ? '. This allocator was deployed without ALLOCATOR_URL, so each path names its function: `/create/extend` is `<allocator>-create/extend`.'
          : '.'),
      ...(options.signIn ? { [SIGN_IN_EXTENSION]: options.signIn } : {}),
    },
    servers: [{ url: urls.server }],
    security: [{ googleIdToken: [] }],
    paths,
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        googleIdToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A Google ID token whose audience the allocator accepts.',
        },
      },
    },
  };
}

function operationObject(
  id: OperationId,
  spec: OperationSpec,
  operationId: string,
  settings: Pick<FieldSettings, 'parameters'>,
): Record<string, unknown> {
  const statuses = [...new Set([...COMMON_ERRORS, ...spec.errors])].sort((a, b) => a - b);
  const errorResponse = (status: number): Record<string, unknown> => ({
    description: STATUS_TEXT[status] ?? `HTTP ${status}`,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    ...(status === 409 || status === 429 || status === 503 ? { headers: { 'Retry-After': RETRY_AFTER } } : {}),
    ...(status === 405 ? { headers: { Allow: { schema: { type: 'string' } } } } : {}),
  });
  return {
    operationId,
    summary: spec.summary,
    description: spec.description + (spec.requires === 'admin' ? ' Admins only.' : ''),
    tags: [spec.function],
    'x-allocator-function': spec.function,
    'x-allocator-operation': id,
    parameters: [
      ...Object.entries(spec.query ?? {}).map(([name, field]) => ({ name, in: 'query', required: field.required, schema: field.schema })),
      ...(spec.idempotent
        ? [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description: 'Makes retries safe: a retry with the same key answers the same instance.',
              schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
            },
          ]
        : []),
    ],
    ...(spec.body
      ? {
          requestBody: {
            required: Object.values(spec.body).some((field) => field.required),
            content: { 'application/json': { schema: objectSchema(spec.body, settings) satisfies JsonSchema } },
          },
        }
      : {}),
    responses: {
      [spec.answer.status]: {
        description: spec.answer.description + (spec.progress ? PROGRESS_DESCRIPTION : ''),
        content: {
          [spec.answer.contentType ?? 'application/json']: { schema: { $ref: `#/components/schemas/${spec.answer.schema}` } },
          ...(spec.progress ? { [PROGRESS_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/ProgressLine' } } } : {}),
        },
        ...(spec.answer.headers
          ? {
              headers: Object.fromEntries(
                Object.entries(spec.answer.headers).map(([name, header]) => [
                  name,
                  { description: header.description, schema: { type: 'string', ...(header.format ? { format: header.format } : {}) } },
                ]),
              ),
            }
          : {}),
      },
      ...Object.fromEntries(statuses.map((status) => [status, errorResponse(status)])),
    },
  };
}

const PROGRESS_DESCRIPTION = ` With \`Accept: ${PROGRESS_CONTENT_TYPE}\`: its steps as they happen, one JSON line each, and last the answer or error that it would otherwise have sent, with its status.`;

const RETRY_AFTER = { description: 'Seconds to wait before a retry.', schema: { type: 'integer' } };

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
