import { ApiException, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { kubeError } from './kube-errors.ts';

/** A change to one of the pods watched. */
export type PodEvent = { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly pod: V1Pod };

/**
 * Watches the pods of `labelSelector` from `resourceVersion` (a list's),
 * telling each change, until `signal` aborts or the watch ends: the server
 * closed it, its resourceVersion is too old (410), or the connection
 * dropped. The caller lists again and watches on from there. A refusal
 * (403 without the watch verb) is thrown.
 */
export function watchPods(options: {
  kubeConfig: KubeConfig;
  namespace: string;
  labelSelector: string;
  resourceVersion?: string;
  signal: AbortSignal;
  onEvent: (event: PodEvent) => void;
}): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let controller: AbortController | undefined;
    const settle = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener('abort', onAbort);
      controller?.abort();
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onAbort = (): void => settle();
    if (options.signal.aborted) return settle();
    options.signal.addEventListener('abort', onAbort, { once: true });
    new Watch(options.kubeConfig)
      .watch(
        `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods`,
        {
          labelSelector: options.labelSelector,
          ...(options.resourceVersion ? { resourceVersion: options.resourceVersion } : {}),
          allowWatchBookmarks: false,
        },
        (type: string, object: V1Pod) => {
          if (type === 'ERROR') return settle(); // e.g. 410 Gone: list again
          if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') options.onEvent({ type, pod: object });
        },
        (error: unknown) => {
          const status = (error as { statusCode?: number } | null)?.statusCode;
          settle(status ? kubeError(new ApiException(status, `HTTP ${status}`, undefined, {}), 'watch Pods') : undefined);
        },
      )
      .then(
        (started) => {
          controller = started;
          if (settled) started.abort();
        },
        (error: unknown) => settle(kubeError(error, 'watch Pods')),
      );
  });
}
