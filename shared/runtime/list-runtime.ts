import { systemClock } from '../clock.ts';
import { loadConfig, type AllocatorConfig } from '../config/load-config.ts';
import { makeDeploymentEventsClient, type DeploymentEventsClient } from '../kube/deployment-events.ts';
import { makePodLogsClient, type PodLogsClient } from '../kube/pod-logs.ts';
import { clusterFor, connectionFor, instanceObjectsFor, onConnection, verifierFor } from './clients.ts';
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

/** The log API's client: only a request for logs builds it, not a cold start. */
export function podLogsFor(config: AllocatorConfig, connection = connectionFor(config)): () => Promise<PodLogsClient> {
  return onConnection(connection, (kubeConfig) =>
    makePodLogsClient({ kubeConfig, namespace: config.cluster.namespace, connectTimeoutMs: config.callTimeoutMs }),
  );
}

/** The Deployments' list-and-watch client: only a watch builds it. */
export function deploymentEventsFor(config: AllocatorConfig, connection = connectionFor(config)): () => Promise<DeploymentEventsClient> {
  return onConnection(connection, (kubeConfig) =>
    makeDeploymentEventsClient({ kubeConfig, namespace: config.cluster.namespace, timeoutMs: config.callTimeoutMs }),
  );
}
