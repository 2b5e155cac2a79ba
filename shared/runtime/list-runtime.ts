import { GoogleAuth } from 'google-auth-library';
import { systemClock } from '../clock.ts';
import { loadConfig, type AllocatorConfig } from '../config/load-config.ts';
import { connectToCluster } from '../kube/connect.ts';
import { makeDeploymentEventsClient, type DeploymentEventsClient } from '../kube/deployment-events.ts';
import { makePodLogsClient, type PodLogsClient } from '../kube/pod-logs.ts';
import { clusterFor, instanceObjectsFor, retryingOnce, verifierFor } from './clients.ts';
import type { ListRuntime } from './runtimes.ts';

export function makeListRuntime(config: AllocatorConfig): ListRuntime {
  return {
    config,
    verifier: verifierFor(config),
    cluster: clusterFor(config),
    instanceObjects: instanceObjectsFor(config),
    clock: systemClock,
    podLogs: podLogsFor(config),
    deploymentEvents: deploymentEventsFor(config),
  };
}

/** List's runtime at cold start: no template, no compute client. */
export function loadListRuntime(env: NodeJS.ProcessEnv = process.env): ListRuntime {
  return makeListRuntime(loadConfig(env));
}

/**
 * The log API's client, connected on first use and then kept (its own
 * connection: only a request for logs pays for it, not a cold start).
 */
export function podLogsFor(config: AllocatorConfig): () => Promise<PodLogsClient> {
  return retryingOnce(async () => {
    const kubeConfig = await connectToCluster(config.cluster, {
      googleAuthClient: async () => new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] }).getClient(),
      timeoutMs: config.callTimeoutMs,
    });
    return makePodLogsClient({ kubeConfig, namespace: config.cluster.namespace, connectTimeoutMs: config.callTimeoutMs });
  });
}

/** The Deployments' list-and-watch client, connected on first use and then kept: only a watch pays for it. */
export function deploymentEventsFor(config: AllocatorConfig): () => Promise<DeploymentEventsClient> {
  return retryingOnce(async () => {
    const kubeConfig = await connectToCluster(config.cluster, {
      googleAuthClient: async () => new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] }).getClient(),
      timeoutMs: config.callTimeoutMs,
    });
    return makeDeploymentEventsClient({ kubeConfig, namespace: config.cluster.namespace, timeoutMs: config.callTimeoutMs });
  });
}
