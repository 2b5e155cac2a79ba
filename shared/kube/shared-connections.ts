import type { KubeConfig } from '@kubernetes/client-node';

const pooled = new WeakSet<KubeConfig>();

/**
 * Makes every call through `kubeConfig` share one connection pool.
 * client-node builds a new undici Agent for each request (in
 * applySecurityAuthentication), so each call paid a TCP and TLS handshake and
 * left its own idle socket behind. The first Agent it builds is kept and
 * given to every later request, the watch's included; the rest are never
 * used. Credentials are headers, applied per request as before; the TLS
 * material (CA, client certificate) is the cluster's, fixed for its life.
 */
export function shareConnections(kubeConfig: KubeConfig): KubeConfig {
  // The clients of one runtime share its KubeConfig: the first of them to be built sets the pool up for all.
  if (pooled.has(kubeConfig)) return kubeConfig;
  pooled.add(kubeConfig);
  const authenticate = kubeConfig.applySecurityAuthentication.bind(kubeConfig);
  let dispatcher: ReturnType<Parameters<KubeConfig['applySecurityAuthentication']>[0]['getDispatcher']>;
  kubeConfig.applySecurityAuthentication = async (context) => {
    await authenticate(context);
    dispatcher ??= context.getDispatcher();
    if (dispatcher) context.setDispatcher(dispatcher);
  };
  return kubeConfig;
}
