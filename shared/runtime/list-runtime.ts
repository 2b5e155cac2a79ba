import { systemClock } from '../clock.ts';
import { loadConfig, type AllocatorConfig } from '../config/load-config.ts';
import { clusterFor, instanceObjectsFor, verifierFor } from './clients.ts';
import type { ListRuntime } from './runtimes.ts';

export function makeListRuntime(config: AllocatorConfig): ListRuntime {
  return {
    config,
    verifier: verifierFor(config),
    cluster: clusterFor(config),
    instanceObjects: instanceObjectsFor(config),
    clock: systemClock,
  };
}

/** List's runtime at cold start: no template, no compute client. */
export function loadListRuntime(env: NodeJS.ProcessEnv = process.env): ListRuntime {
  return makeListRuntime(loadConfig(env));
}
