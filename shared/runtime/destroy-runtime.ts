import { randomBytes } from 'node:crypto';
import { systemClock } from '../clock.ts';
import { makeBackground } from './background.ts';
import { loadConfig, type AllocatorConfig } from '../config/load-config.ts';
import { clusterFor, connectionFor, disksFor, instanceObjectsFor, verifierFor } from './clients.ts';
import type { DestroyRuntime } from './runtimes.ts';

export function makeDestroyRuntime(config: AllocatorConfig): DestroyRuntime {
  const connection = connectionFor(config);
  return {
    config,
    verifier: verifierFor(config),
    cluster: clusterFor(config, connection),
    instanceObjects: instanceObjectsFor(config, connection),
    disks: disksFor(config),
    clock: systemClock,
    random: randomBytes,
    background: makeBackground(),
  };
}

/** Destroy's runtime at cold start: no template. */
export function loadDestroyRuntime(env: NodeJS.ProcessEnv = process.env): DestroyRuntime {
  return makeDestroyRuntime(loadConfig(env));
}
