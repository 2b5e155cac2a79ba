import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { makeCreateHandler } from '../shared/handlers/create-handler.ts';
import { makeDestroyHandler } from '../shared/handlers/destroy-handler.ts';
import { makeListHandler } from '../shared/handlers/list-handler.ts';
import { installJsonFrameworkErrors } from '../shared/http/framework-errors.ts';
import type { Runtime } from '../shared/runtime.ts';
import { closeServer, listenOnLoopback } from '../test/harness/http.ts';

export function allocatorEnvFor(o: { kubeconfigPath: string; namespace: string; emulatorUrl: string; certsUrl: string }): Record<string, string> {
  return {
    ALLOCATOR_SERVER_NAME: 'syncbased',
    ALLOCATOR_TEMPLATE: fileURLToPath(new URL('../templates/syncbased-deployment.json.hbs', import.meta.url)),
    ALLOCATOR_KUBECONFIG: o.kubeconfigPath,
    ALLOCATOR_NAMESPACE: o.namespace,
    ALLOCATOR_GCE_PROJECT: 'bench-project',
    ALLOCATOR_GCE_ZONE: 'bench-zone',
    ALLOCATOR_COMPUTE_ENDPOINT: o.emulatorUrl,
    ALLOCATOR_TOKEN_CERTS_URL: o.certsUrl,
    ALLOCATOR_AUDIENCES: 'https://allocator.bench',
    ALLOCATOR_MAX_INSTANCES_PER_USER: '5000',
    ALLOCATOR_MAX_INSTANCES: '5000',
  };
}

/** The three handlers in this process, through the functions framework, on loopback. */
export async function serveRuntime(runtime: Runtime): Promise<{ urls: { create: string; destroy: string; list: string }; stop: () => Promise<void> }> {
  installJsonFrameworkErrors();
  const silent = (): void => undefined;
  const handlers = { create: makeCreateHandler({ ...runtime, log: silent }), destroy: makeDestroyHandler({ ...runtime, log: silent }), list: makeListHandler({ ...runtime, log: silent }) };
  const servers: Server[] = [];
  const urls: Record<string, string> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    http(`bench-${name}`, handler);
    const server = getTestServer(`bench-${name}`);
    servers.push(server);
    urls[name] = await listenOnLoopback(server);
  }
  return { urls: urls as { create: string; destroy: string; list: string }, stop: async () => void (await Promise.all(servers.map(closeServer))) };
}
