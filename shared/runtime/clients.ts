import type { KubeConfig } from '@kubernetes/client-node';
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

/**
 * The connection to the cluster, made on first use and then kept: for GKE,
 * one read of the cluster's endpoint and one source of access tokens for
 * every client of a runtime, rather than one each.
 */
export function connectionFor(config: AllocatorConfig): () => Promise<KubeConfig> {
  return retryingOnce(() =>
    connectToCluster(config.cluster, {
      googleAuthClient: async () => new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] }).getClient(),
      timeoutMs: config.callTimeoutMs,
    }),
  );
}

/** A client built on `connection` at its first use and then kept (a failure is tried again at the next). */
export function onConnection<T>(connection: () => Promise<KubeConfig>, make: (kubeConfig: KubeConfig) => T): () => Promise<T> {
  return retryingOnce(async () => make(await connection()));
}

/** The cluster's client. */
export function clusterFor(config: AllocatorConfig, connection = connectionFor(config)): () => Promise<ClusterClient> {
  return onConnection(connection, (kubeConfig) =>
    makeClusterClient({ kubeConfig, namespace: config.cluster.namespace, timeoutMs: config.callTimeoutMs }),
  );
}

/** The instances' Services and ConfigMaps. */
export function instanceObjectsFor(config: AllocatorConfig, connection = connectionFor(config)): () => Promise<InstanceObjectsClient> {
  return onConnection(connection, (kubeConfig) =>
    makeInstanceObjectsClient({ kubeConfig, namespace: config.cluster.namespace, timeoutMs: config.callTimeoutMs }),
  );
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
