import { readFileSync } from 'node:fs';
import { OAuth2Client } from 'google-auth-library';
import type { AllocatorDeps } from './allocator/deps.ts';
import type { TokenVerifier } from './auth/token-verifier.ts';
import { makeBaseRuntime } from './base-runtime.ts';
import { loadConfig, type AllocatorConfig } from './config/load-config.ts';
import { ConfigError } from './config/config-error.ts';
import { makeDisksApi, type DisksApi } from './gce/disks.ts';
import { compileDeploymentTemplate, templateFormatOf, type DeploymentTemplate } from './template/deployment-template.ts';
import { makeTemplateData } from './template/template-data.ts';

/** Everything create and destroy need, from the configuration; heavy clients are made on first use. */
export type Runtime = AllocatorDeps & { readonly verifier: TokenVerifier };

/** Reads and compiles the template, failing at cold start if it is broken. */
export function loadTemplate(config: Pick<AllocatorConfig, 'templatePath' | 'serverName'>): DeploymentTemplate {
  let source: string;
  try {
    source = readFileSync(config.templatePath, 'utf8');
  } catch (error) {
    throw new ConfigError(`ALLOCATOR_TEMPLATE: cannot read ${config.templatePath} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const name = `${config.serverName}-00000000`;
  const sample = makeTemplateData({
    name,
    ownerEmail: 'sample@example.com',
    admins: [],
    mountName: name,
    ownerHash: '0'.repeat(40),
    version: 'sample',
    creatorInfo: { email: 'sample@example.com', mountName: name, createdAt: new Date(0).toISOString(), allocator: config.serverName },
  });
  return compileDeploymentTemplate(source, { format: templateFormatOf(config.templatePath), sample, source: config.templatePath });
}

export function makeRuntime(config: AllocatorConfig): Runtime {
  let disks: DisksApi | undefined;
  return {
    ...makeBaseRuntime(config),
    template: loadTemplate(config),
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

/** The runtime of a function at cold start, from its environment. */
export function loadRuntime(env: NodeJS.ProcessEnv = process.env): Runtime {
  return makeRuntime(loadConfig(env));
}
