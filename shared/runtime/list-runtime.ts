import { systemClock } from '../clock.ts';
import { loadConfig, type AllocatorConfig } from '../config/load-config.ts';
import { makeDeploymentEventsClient, type DeploymentEventsClient } from '../kube/deployment-events.ts';
import { makePodLogsClient, type PodLogsClient } from '../kube/pod-logs.ts';
import { clusterFor, connectionFor, instanceObjectsFor, retryingOnce, verifierFor } from './clients.ts';
import type { ListRuntime } from './runtimes.ts';

export function makeListRuntime(config: AllocatorConfig): ListRuntime {
  const connection = connectionFor(config);
  return {
    config,
    verifier: verifierFor(config),
    cluster: clusterFor(config, connection),
    instanceObjects: instanceObjectsFor(config, connection),
    clock: systemClock,
    podLogs: podLogsFor(config, connection),
    deploymentEvents: deploymentEventsFor(config, connection),
  };
}

/** List's runtime at cold start: no template, no compute client. */
export function loadListRuntime(env: NodeJS.ProcessEnv = process.env): ListRuntime {
  return makeListRuntime(loadConfig(env));
}

/** The log API's client, built on `connection` at first use and then kept: only a request for logs pays for it, not a cold start. */
export function podLogsFor(config: AllocatorConfig, connection = connectionFor(config)): () => Promise<PodLogsClient> {
  return retryingOnce(async () =>
    makePodLogsClient({ kubeConfig: await connection(), namespace: config.cluster.namespace, connectTimeoutMs: config.callTimeoutMs }),
  );
}

/** The Deployments' list-and-watch client, built on `connection` at first use and then kept: only a watch pays for it. */
export function deploymentEventsFor(config: AllocatorConfig, connection = connectionFor(config)): () => Promise<DeploymentEventsClient> {
  return retryingOnce(async () =>
    makeDeploymentEventsClient({ kubeConfig: await connection(), namespace: config.cluster.namespace, timeoutMs: config.callTimeoutMs }),
  );
}
