import { GoogleAuth } from 'google-auth-library';
import type { AllocatorDeps } from './allocator/deps.ts';
import { makeTokenVerifier, type TokenVerifier } from './auth/token-verifier.ts';
import { loadConfig, type AllocatorConfig } from './config/load-config.ts';
import { makeClusterClient, type ClusterClient } from './kube/cluster.ts';
import { connectToCluster } from './kube/connect.ts';

/** What every function needs: configuration, token verification and the cluster. List needs nothing more. */
export type BaseRuntime = Pick<AllocatorDeps, 'config' | 'cluster'> & { readonly verifier: TokenVerifier };

/** Memoises an async factory, forgetting a failure so the next request tries again. */
function retryingOnce<T>(factory: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= factory().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

export function makeBaseRuntime(config: AllocatorConfig): BaseRuntime {
  return {
    config,
    verifier: makeTokenVerifier({ audiences: config.auth.audiences, mode: config.auth.mode, certsUrl: config.auth.certsUrl }),
    cluster: retryingOnce<ClusterClient>(async () => {
      const kubeConfig = await connectToCluster(config.cluster, {
        googleAuthClient: async () => new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] }).getClient(),
        timeoutMs: config.callTimeoutMs,
      });
      return makeClusterClient({ kubeConfig, namespace: config.cluster.namespace, timeoutMs: config.callTimeoutMs });
    }),
  };
}

/** The list function's runtime at cold start, from its environment. */
export function loadBaseRuntime(env: NodeJS.ProcessEnv = process.env): BaseRuntime {
  return makeBaseRuntime(loadConfig(env));
}
