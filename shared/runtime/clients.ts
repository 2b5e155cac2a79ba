import { GoogleAuth, OAuth2Client } from 'google-auth-library';
import { makeTokenVerifier, type TokenVerifier } from '../auth/token-verifier.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { AllocatorConfig } from '../config/load-config.ts';
import { makeDisksApi, type DisksApi } from '../gce/disks.ts';
import { makeClusterClient, type ClusterClient } from '../kube/cluster.ts';
import { connectToCluster } from '../kube/connect.ts';
import { makeInstanceObjectsClient, type InstanceObjectsClient } from '../kube/instance-objects.ts';

/** Memoises an async factory, forgetting a failure so the next request tries again. */
export function retryingOnce<T>(factory: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= factory().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

export function verifierFor(config: AllocatorConfig): TokenVerifier {
  return makeTokenVerifier({ audiences: config.auth.audiences, mode: config.auth.mode, certsUrl: config.auth.certsUrl });
}

/** The cluster, connected on first use and then kept. */
export function clusterFor(config: AllocatorConfig): () => Promise<ClusterClient> {
  return retryingOnce(async () => {
    const kubeConfig = await connectToCluster(config.cluster, {
      googleAuthClient: async () => new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] }).getClient(),
      timeoutMs: config.callTimeoutMs,
    });
    return makeClusterClient({ kubeConfig, namespace: config.cluster.namespace, timeoutMs: config.callTimeoutMs });
  });
}

/** The instances' Services and ConfigMaps, connected on first use and then kept, as the cluster is. */
export function instanceObjectsFor(config: AllocatorConfig): () => Promise<InstanceObjectsClient> {
  return retryingOnce(async () => {
    const kubeConfig = await connectToCluster(config.cluster, {
      googleAuthClient: async () => new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] }).getClient(),
      timeoutMs: config.callTimeoutMs,
    });
    return makeInstanceObjectsClient({ kubeConfig, namespace: config.cluster.namespace, timeoutMs: config.callTimeoutMs });
  });
}

/** The disks API, built on first use (loading the compute client is the costly part of a cold start). */
export function disksFor(config: AllocatorConfig, clock: Clock = systemClock): () => DisksApi {
  let disks: DisksApi | undefined;
  return () =>
    (disks ??= makeDisksApi({
      project: config.compute.project,
      zone: config.compute.zone,
      ...(config.compute.endpoint ? { endpoint: config.compute.endpoint, authClient: emulatorAuthClient() } : {}),
      timeoutMs: config.callTimeoutMs,
      clock,
    }));
}

/** A custom Compute endpoint is an emulator, which takes any bearer token. */
function emulatorAuthClient(): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: 'local-emulator' });
  return client;
}
