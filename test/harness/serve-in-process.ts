import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { makeCreateHandler } from '../../shared/handlers/create-handler.ts';
import { makeDestroyHandler } from '../../shared/handlers/destroy-handler.ts';
import { makeListHandler } from '../../shared/handlers/list-handler.ts';
import { installJsonFrameworkErrors } from '../../shared/http/framework-errors.ts';
import type { CreateRuntime } from '../../shared/runtime/runtimes.ts';
import { closeServer, listenOnLoopback } from './http.ts';

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
): Promise<{ urls: FunctionUrls; stop: () => Promise<void> }> {
  installJsonFrameworkErrors({ functionName: 'in-process', log });
  const id = randomBytes(4).toString('hex');
  const handlers = {
    create: makeCreateHandler({ runtime, log }),
    destroy: makeDestroyHandler({ runtime, log }),
    list: makeListHandler({ runtime, log, dashboardDir: DASHBOARD_DIR }),
  };
  const servers: Server[] = [];
  const urls: Record<string, string> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    http(`${name}-${id}`, handler);
    const server = getTestServer(`${name}-${id}`);
    servers.push(server);
    urls[name] = await listenOnLoopback(server);
  }
  return { urls: urls as unknown as FunctionUrls, stop: async () => void (await Promise.all(servers.map(closeServer))) };
}
