import { OAuth2Client } from 'google-auth-library';
import type { TeardownDeps } from './allocator/deps.ts';
import type { TokenVerifier } from './auth/token-verifier.ts';
import { makeBaseRuntime } from './base-runtime.ts';
import { loadConfig, type AllocatorConfig } from './config/load-config.ts';
import { makeDisksApi, type DisksApi } from './gce/disks.ts';

/** What destroy and the sweep need: the base runtime and the disks API (made on first use). No template: they render nothing. */
export type DestroyRuntime = TeardownDeps & { readonly verifier: TokenVerifier };

export function makeDestroyRuntime(config: AllocatorConfig): DestroyRuntime {
  let disks: DisksApi | undefined;
  return {
    ...makeBaseRuntime(config),
    disks: () =>
      (disks ??= makeDisksApi({
        project: config.compute.project,
        zone: config.compute.zone,
        ...(config.compute.endpoint ? { endpoint: config.compute.endpoint, authClient: emulatorAuthClient() } : {}),
        timeoutMs: config.callTimeoutMs,
      })),
  };
}

/** A custom Compute endpoint is an emulator, which takes any bearer token. */
function emulatorAuthClient(): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: 'local-emulator' });
  return client;
}

/** Destroy's runtime at cold start, from its environment. */
export function loadDestroyRuntime(env: NodeJS.ProcessEnv = process.env): DestroyRuntime {
  return makeDestroyRuntime(loadConfig(env));
}
