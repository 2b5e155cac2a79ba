import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { http, type HttpFunction } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { makeCreateHandler } from '../../shared/handlers/create-handler.ts';
import { makeDestroyHandler } from '../../shared/handlers/destroy-handler.ts';
import { makeListHandler, OPENAPI_PATH } from '../../shared/handlers/list-handler.ts';
import { OPERATIONS, operationsOf, type FunctionName, type OperationSpec } from '../../shared/api/operations.ts';
import { PROGRESS_CONTENT_TYPE } from '../../shared/api/progress.ts';
import { installJsonFrameworkErrors } from '../../shared/http/framework-errors.ts';
import type { CreateRuntime } from '../../shared/runtime/runtimes.ts';
import { closeServer, listenOnLoopback } from './http.ts';
import { makeAnswerChecker, type Answer } from './openapi-check.ts';

const DASHBOARD_DIR = fileURLToPath(new URL('../../functions/list/dashboard/', import.meta.url));

export interface FunctionUrls {
  readonly create: string;
  readonly destroy: string;
  readonly list: string;
}

/**
 * Serves the three handlers in this process, through the real functions
 * framework, on loopback. Create's runtime has everything destroy's and list's
 * have, so one runtime (one set of clients) serves all three.
 */
export async function serveInProcess(
  runtime: CreateRuntime,
  log: (line: string) => void = () => undefined,
): Promise<{ urls: FunctionUrls; stop: () => Promise<void>; violations: readonly string[] }> {
  installJsonFrameworkErrors({ functionName: 'in-process', log });
  const id = randomBytes(4).toString('hex');
  const handlers = {
    create: makeCreateHandler({ runtime, log }),
    destroy: makeDestroyHandler({ runtime, log }),
    list: makeListHandler({ runtime, log, dashboardDir: DASHBOARD_DIR }),
  };
  const servers: Server[] = [];
  const urls: Record<string, string> = {};
  let check = (_answer: Answer): string | undefined => undefined; // until the description is read
  const violations: string[] = [];
  for (const [name, handler] of Object.entries(handlers) as [FunctionName, HttpFunction][]) {
    http(
      `${name}-${id}`,
      checkedAgainstDescription(name, handler, (answer) => {
        const problem = check(answer);
        if (problem) violations.push(problem);
      }),
    );
    const server = getTestServer(`${name}-${id}`);
    servers.push(server);
    urls[name] = await listenOnLoopback(server);
  }
  // Every answer is checked against the description that the list function serves.
  const description = await fetch(`${urls.list}${OPENAPI_PATH}`);
  check = makeAnswerChecker((await description.json()) as Record<string, unknown>);
  return { urls: urls as unknown as FunctionUrls, stop: async () => void (await Promise.all(servers.map(closeServer))), violations };
}

/** Wraps a function so that each answer of an operation in the table is handed to `record` once sent. */
function checkedAgainstDescription(fn: FunctionName, handler: HttpFunction, record: (answer: Answer) => void): HttpFunction {
  return (req, res) => {
    const path = new URL(req.originalUrl ?? req.url, 'http://function').pathname.replace(/\/+$/, '') || '/';
    const operation = operationsOf(fn).find((candidate) => {
      const spec: OperationSpec = OPERATIONS[candidate];
      return spec.path === path && (spec.methods as readonly string[]).includes(req.method);
    });
    if (operation !== undefined) {
      let body: unknown;
      const json = res.json.bind(res);
      res.json = (value: unknown) => {
        body = value;
        return json(value);
      };
      // A progress stream's lines, as written.
      let written = '';
      const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
      res.write = ((chunk: unknown, ...rest: unknown[]) => {
        if (String(res.getHeader('content-type')).startsWith(PROGRESS_CONTENT_TYPE)) written += String(chunk);
        return write(chunk, ...rest);
      }) as typeof res.write;
      res.once('finish', () => {
        const streamed = String(res.getHeader('content-type')).startsWith(PROGRESS_CONTENT_TYPE);
        const lines = streamed
          ? written
              .split('\n')
              .filter(Boolean)
              .map((line) => JSON.parse(line) as unknown)
          : undefined;
        record({ operation, method: req.method, status: res.statusCode, body, ...(lines ? { lines } : {}) });
      });
    }
    return handler(req, res);
  };
}
