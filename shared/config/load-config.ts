import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isZone, parseVkubeConfig, type ClusterTarget } from './cluster-config.ts';
import { ConfigError } from './config-error.ts';
import { parseEnvFile } from './env-file.ts';
import { loadParameterDeclarations, type ParameterDeclaration } from './parameters.ts';
import { parseServiceConfig, type ServiceConfig } from './service-config.ts';
import { readSetting, requiredSetting, SETTINGS, type Env } from './settings.ts';

/** Where disks live and how to reach the Compute Engine API. */
export interface ComputeTarget {
  readonly project: string;
  readonly zone: string;
  /** {@link SETTINGS}.computeEndpoint: another endpoint than Google's (the local emulator). */
  readonly endpoint?: string;
}

export interface AllocatorConfig extends ServiceConfig {
  readonly cluster: ClusterTarget;
  readonly compute: ComputeTarget;
  /** What a create may choose, declared in the file {@link SETTINGS}.parameters names; none without it. */
  readonly parameters: readonly ParameterDeclaration[];
}

/**
 * The instances' namespace on GKE when neither {@link SETTINGS}.namespace nor the
 * vkube.cfg names one: the one `infra/setup.sh` makes by default, kept for
 * Allocator, with Pod Security Admission and its admission policy on.
 */
export const DEFAULT_GKE_NAMESPACE = 'allocator';

/**
 * Loads the configuration once, at cold start: the environment, over the
 * `KEY=VALUE` file named by `ALLOCATOR_CONFIG_FILE` if any (relative paths in
 * it are relative to the file), plus the vkube.cfg it names.
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): AllocatorConfig {
  const fileName = readSetting(env, SETTINGS.configFile);
  let merged: Record<string, string | undefined> = { ...env };
  if (fileName) {
    const path = resolve(cwd, fileName);
    const fromFile = parseEnvFile(readText(path, SETTINGS.configFile.env), path);
    merged = { ...fromFile, ...Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== '')) };
    // A path from the file is relative to the file; one from the environment, to the working directory.
    for (const { env: key } of Object.values(SETTINGS).filter((setting) => 'path' in setting && setting.path)) {
      const value = fromFile[key];
      if (value && !env[key] && !isAbsolute(value)) merged[key] = resolve(dirname(path), value);
    }
  }
  const service = parseServiceConfig(merged);
  const parametersPath = readSetting(merged, SETTINGS.parameters);
  return {
    ...service,
    ...(service.templatePath === undefined ? {} : { templatePath: resolve(cwd, service.templatePath) }),
    ...parseTargets(merged, cwd),
    parameters: parametersPath ? loadParameterDeclarations(resolve(cwd, parametersPath)) : [],
  };
}

function parseTargets(env: Env, cwd: string): { cluster: ClusterTarget; compute: ComputeTarget } {
  const vkubePath = readSetting(env, SETTINGS.vkubeCfg);
  const kubeconfigPath = readSetting(env, SETTINGS.kubeconfig);
  if (vkubePath && kubeconfigPath)
    throw new ConfigError('set only one of ALLOCATOR_VKUBE_CFG (a GKE cluster) and ALLOCATOR_KUBECONFIG (any cluster)');
  const namespaceOverride = readSetting(env, SETTINGS.namespace);
  const endpoint = readSetting(env, SETTINGS.computeEndpoint);
  const withEndpoint = endpoint === undefined ? {} : { endpoint };
  if (vkubePath) {
    const path = resolve(cwd, vkubePath);
    let raw: unknown;
    try {
      raw = JSON.parse(readText(path, SETTINGS.vkubeCfg.env));
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`ALLOCATOR_VKUBE_CFG ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    const vkube = parseVkubeConfig(raw, path);
    const namespace = namespaceOverride ?? vkube.namespace ?? DEFAULT_GKE_NAMESPACE;
    // Disks are zonal: a regional cluster's disks need a zone of their own.
    const zone = readSetting(env, SETTINGS.gceZone) ?? (isZone(vkube.location) ? vkube.location : undefined);
    if (zone === undefined) {
      throw new ConfigError(
        `${path} names the region ${vkube.location}, and disks live in a zone: set ALLOCATOR_GCE_ZONE to the zone of the instances' disks, one of ${vkube.location}'s (e.g. ${vkube.location}-c)`,
      );
    }
    return {
      cluster: {
        kind: 'gke',
        project: vkube.project,
        location: vkube.location,
        cluster: vkube.cluster,
        namespace,
        endpoint: vkube.endpoint,
      },
      compute: { project: readSetting(env, SETTINGS.gceProject) ?? vkube.project, zone, ...withEndpoint },
    };
  }
  if (kubeconfigPath) {
    return {
      cluster: { kind: 'kubeconfig', path: resolve(cwd, kubeconfigPath), namespace: namespaceOverride ?? 'default' },
      compute: {
        project: requiredSetting(
          env,
          SETTINGS.gceProject,
          "the project of the instances' disks (with ALLOCATOR_KUBECONFIG it cannot come from a vkube.cfg)",
        ),
        zone: requiredSetting(env, SETTINGS.gceZone, "the zone of the instances' disks, e.g. us-central1-c"),
        ...withEndpoint,
      },
    };
  }
  throw new ConfigError('no cluster configured: set ALLOCATOR_VKUBE_CFG to a vkube.cfg (GKE) or ALLOCATOR_KUBECONFIG to a kubeconfig');
}

function readText(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${key}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {
      cause: error,
    });
  }
}
