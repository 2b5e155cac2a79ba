import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { loadConfig } from '../../shared/config/load-config.ts';
import { makeCreateRuntime } from '../../shared/runtime/create-runtime.ts';
import type { CreateRuntime } from '../../shared/runtime/runtimes.ts';
import { serveInProcess, type FunctionUrls } from '../harness/serve-in-process.ts';
import { startDisksEmulator, type DisksEmulator } from '../harness/disks-emulator.ts';
import { startTokenIssuer, type TokenIssuer } from '../harness/token-issuer.ts';
import { createTestNamespace, testKubeConfig } from './support.ts';

export const AUDIENCE = 'https://allocator.test';
export const ADMIN = 'admin@example.com';
export const PROJECT = 'test-project';
export const ZONE = 'us-central1-c';
export const DEFAULT_TEMPLATE = fileURLToPath(new URL('../../templates/syncbased-deployment.json.hbs', import.meta.url));

/** The allocator's environment for a namespace, emulator and issuer. */
export function allocatorEnv(options: {
  namespace: string;
  emulator: DisksEmulator;
  issuer: TokenIssuer;
  overrides?: Record<string, string>;
}): Record<string, string> {
  return {
    ALLOCATOR_SERVER_NAME: 'syncbased',
    ALLOCATOR_TEMPLATE: DEFAULT_TEMPLATE,
    ALLOCATOR_MOUNT_ROOT: '/ns.test/allocated',
    ALLOCATOR_VERSION: 'v1',
    ALLOCATOR_KUBECONFIG: inject('kubeconfigPath'),
    ALLOCATOR_NAMESPACE: options.namespace,
    ALLOCATOR_GCE_PROJECT: PROJECT,
    ALLOCATOR_GCE_ZONE: ZONE,
    ALLOCATOR_COMPUTE_ENDPOINT: options.emulator.url,
    ALLOCATOR_TOKEN_CERTS_URL: options.issuer.certsUrl,
    ALLOCATOR_AUDIENCES: AUDIENCE,
    ALLOCATOR_ADMINS: ADMIN,
    ALLOCATOR_MAX_INSTANCES_PER_USER: '2',
    ALLOCATOR_MAX_INSTANCES: '10',
    ALLOCATOR_WAIT_TIMEOUT_SECONDS: '60',
    ALLOCATOR_DISK_RELEASE_TIMEOUT_SECONDS: '10',
    // Off unless a test turns it on: its refills would add disks to the counts of tests about other things.
    ALLOCATOR_DISK_POOL_SIZE: '0',
    ...options.overrides,
  };
}

export { serveInProcess, type FunctionUrls };

export interface TestStack {
  readonly namespace: string;
  readonly kubeConfig: KubeConfig;
  readonly issuer: TokenIssuer;
  readonly emulator: DisksEmulator;
  readonly env: Record<string, string>;
  readonly runtime: CreateRuntime;
  readonly urls: FunctionUrls;
  readonly logs: string[];
  /** Answers that do not match the OpenAPI description the list function serves; stop() fails on any. */
  readonly violations: readonly string[];
  tokenFor(email: string): string;
  /** The same allocator with other settings (a fixture's template, say), served beside it; stopped, and its answers checked, with it. */
  variant(overrides: Record<string, string>): Promise<FunctionUrls>;
  stop(): Promise<void>;
}

export async function startTestStack(options: {
  prefix: string;
  overrides?: Record<string, string> | ((parts: { issuer: TokenIssuer }) => Record<string, string>);
}): Promise<TestStack> {
  const kubeConfig = testKubeConfig();
  const { namespace, remove } = await createTestNamespace(kubeConfig, options.prefix);
  const issuer = await startTokenIssuer();
  const emulator = await startDisksEmulator();
  const overrides = typeof options.overrides === 'function' ? options.overrides({ issuer }) : options.overrides;
  const env = allocatorEnv({ namespace, emulator, issuer, ...(overrides ? { overrides } : {}) });
  const runtime = makeCreateRuntime(loadConfig(env));
  const logs: string[] = [];
  const served = await serveInProcess(runtime, (line) => logs.push(line));
  const variants: { runtime: CreateRuntime; served: Awaited<ReturnType<typeof serveInProcess>> }[] = [];
  return {
    namespace,
    kubeConfig,
    issuer,
    emulator,
    env,
    runtime,
    urls: served.urls,
    logs,
    violations: served.violations,
    tokenFor: (email) => issuer.issueIdToken({ email, audience: AUDIENCE }),
    variant: async (settings) => {
      const variantRuntime = makeCreateRuntime(loadConfig({ ...env, ...settings }));
      const variantServed = await serveInProcess(variantRuntime);
      variants.push({ runtime: variantRuntime, served: variantServed });
      return variantServed.urls;
    },
    stop: async () => {
      for (const variant of variants) {
        await variant.served.stop();
        await variant.runtime.disks().close();
      }
      await served.stop();
      await runtime.background.settled();
      await runtime.disks().close();
      await Promise.all([issuer.stop(), emulator.stop()]);
      await remove();
      const violations = [...served.violations, ...variants.flatMap((variant) => variant.served.violations)];
      if (violations.length > 0) {
        throw new Error(`answers that /openapi.json does not describe:\n${[...new Set(violations)].join('\n')}`);
      }
    },
  };
}

export interface CallResult<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** Calls a function URL with a bearer token (if given) and a JSON body (if given). */
export async function call<T = Record<string, unknown>>(
  url: string,
  init: { token?: string; method?: string; body?: unknown; rawBody?: string; query?: string } = {},
): Promise<CallResult<T>> {
  const headers: Record<string, string> = {};
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const body = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${url}/${init.query ?? ''}`, {
    method: init.method ?? 'POST',
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T, headers: response.headers };
}

/**
 * The names of every disk `emulator` holds, in any project and zone, sorted. A
 * disk anywhere but PROJECT's ZONE is named with where it is
 * (`name @ projects/p/zones/z`), so that comparing with the names expected also
 * fails on a disk made or left in another zone: reading one zone only would
 * not see it.
 */
export function diskNames(emulator: DisksEmulator): string[] {
  const home = `/compute/v1/projects/${PROJECT}/zones/${ZONE}`;
  return emulator
    .disks()
    .map((disk) => (disk.zone.endsWith(home) ? disk.name : `${disk.name} @ ${disk.zone.replace(/^.*\/compute\/v1\//, '')}`))
    .sort();
}
