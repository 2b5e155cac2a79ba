import { ApiException, Watch, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { kubeError } from './kube-errors.ts';

/** A Deployment's state as a wait sees it: undefined once it is gone. */
export type DeploymentState = V1Deployment | undefined;

/**
 * Watches one Deployment from `seen` until `done` holds for its state or
 * `maxMs` passes, and answers the last state. A watch that ends early (the
 * server closes it, the resourceVersion is too old, the connection drops)
 * falls back to a fresh read, so the caller never misses a change: it only
 * learns of it later.
 */
export function watchDeployment(options: {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  seen: DeploymentState;
  maxMs: number;
  done: (state: DeploymentState) => boolean;
  read: () => Promise<DeploymentState>;
}): Promise<DeploymentState> {
  const { name, seen, done } = options;
  return new Promise<DeploymentState>((resolve, reject) => {
    let settled = false;
    let abort: AbortController | undefined;
    const settle = (state: Promise<DeploymentState> | DeploymentState): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abort?.abort();
      Promise.resolve(state).then(resolve, reject);
    };
    const timer = setTimeout(() => settle(options.read()), options.maxMs);
    const onEvent = (type: string, object: V1Deployment): void => {
      if (type === 'ERROR') return settle(options.read()); // e.g. 410 Gone: start again from a read
      if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return; // BOOKMARK
      const state = type === 'DELETED' ? undefined : object;
      if (done(state)) settle(state);
    };
    new Watch(options.kubeConfig)
      .watch(
        `/apis/apps/v1/namespaces/${encodeURIComponent(options.namespace)}/deployments`,
        {
          fieldSelector: `metadata.name=${name}`,
          // From what the caller saw, so nothing in between is lost; without it the server starts with the current state.
          ...(seen?.metadata?.resourceVersion ? { resourceVersion: seen.metadata.resourceVersion } : {}),
          timeoutSeconds: Math.ceil(options.maxMs / 1000) + 1,
        },
        onEvent,
        (error: unknown) => {
          const status = (error as { statusCode?: number } | null)?.statusCode;
          // A refusal (403 without the watch verb) is an answer; anything else, a dropped stream, is read past.
          if (status)
            settle(Promise.reject(kubeError(new ApiException(status, `HTTP ${status}`, undefined, {}), `watch Deployment ${name}`)));
          else settle(options.read());
        },
      )
      .then(
        (controller) => {
          abort = controller;
          if (settled) controller.abort();
        },
        (error: unknown) => settle(Promise.reject(kubeError(error, `watch Deployment ${name}`))),
      );
  });
}
