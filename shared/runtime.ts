import { readFileSync } from 'node:fs';
import type { AllocatorDeps } from './allocator/deps.ts';
import type { TokenVerifier } from './auth/token-verifier.ts';
import { loadConfig, type AllocatorConfig } from './config/load-config.ts';
import { ConfigError } from './config/config-error.ts';
import { makeDestroyRuntime } from './destroy-runtime.ts';
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

/** Create's runtime: the template (compiled now) and the disks API (on first use). */
export function makeRuntime(config: AllocatorConfig): Runtime {
  return { ...makeDestroyRuntime(config), template: loadTemplate(config) };
}

/** Create's runtime at cold start, from its environment. */
export function loadRuntime(env: NodeJS.ProcessEnv = process.env): Runtime {
  return makeRuntime(loadConfig(env));
}
