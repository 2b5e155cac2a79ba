import { ApiException, AppsV1Api, Watch, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { callOptions } from './call-options.ts';
import { kubeError } from './kube-errors.ts';

/** One change a watch reports: a Deployment's new state, or only that the list's resourceVersion moved on (a bookmark). */
export type DeploymentEvent =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly deployment: V1Deployment; readonly resourceVersion: string }
  | { readonly type: 'BOOKMARK'; readonly resourceVersion: string };

/** The API server no longer has the history from that resourceVersion (410 Gone): list again and watch from there. */
export class WatchExpiredError extends Error {
  override readonly name = 'WatchExpiredError';
}

/** The Deployments of a label selector, and their changes from a resourceVersion on, in one namespace. */
export interface DeploymentEventsClient {
  /** Every Deployment the selector matches, and the list's resourceVersion, to watch from without missing a change. */
  list(labelSelector: string): Promise<{ items: V1Deployment[]; resourceVersion: string }>;
  /**
   * Watches the selector's Deployments from `resourceVersion`, each change
   * given to `onEvent` in order. Answers once the API server has accepted
   * the watch (a refusal is thrown as a typed error); `ended` settles when
   * the watch ends: resolved when the server closes it or `signal` aborts it,
   * rejected with WatchExpiredError on 410 Gone or a typed error otherwise.
   */
  watch(request: {
    labelSelector: string;
    resourceVersion: string;
    timeoutSeconds: number;
    signal: AbortSignal;
    onEvent: (event: DeploymentEvent) => void;
  }): Promise<{ ended: Promise<void> }>;
}

const PAGE_SIZE = 500;

export function makeDeploymentEventsClient(options: {
  kubeConfig: KubeConfig;
  namespace: string;
  timeoutMs: number;
}): DeploymentEventsClient {
  const { kubeConfig, namespace, timeoutMs } = options;
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const path = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments`;
  return {
    list: async (labelSelector) => {
      const items: V1Deployment[] = [];
      let resourceVersion: string | undefined;
      let continueToken: string | undefined;
      do {
        const page = await apps
          .listNamespacedDeployment(
            { namespace, labelSelector, limit: PAGE_SIZE, ...(continueToken ? { _continue: continueToken } : {}) },
            callOptions(timeoutMs),
          )
          .catch((error: unknown) => {
            throw kubeError(error, 'list Deployments');
          });
        items.push(...page.items);
        // Every page of a paged list is of the first page's snapshot.
        resourceVersion ??= page.metadata?.resourceVersion;
        continueToken = page.metadata?._continue || undefined;
      } while (continueToken);
      return { items, resourceVersion: resourceVersion ?? '' };
    },
    watch: ({ labelSelector, resourceVersion, timeoutSeconds, signal, onEvent }) => {
      const action = 'watch Deployments';
      return new Promise((resolveStarted, rejectStarted) => {
        let started = false;
        let refused = false;
        let resolveEnded!: () => void;
        let rejectEnded!: (error: unknown) => void;
        const ended = new Promise<void>((resolve, reject) => {
          resolveEnded = resolve;
          rejectEnded = reject;
        });
        const fail = (error: unknown): void => {
          if (started) rejectEnded(error);
          else {
            refused = true;
            rejectStarted(error);
          }
        };
        // client-node ends a watch quiet for 30 s as if it had dropped: the caller watches again from where it was.
        new Watch(kubeConfig)
          .watch(
            path,
            { labelSelector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
            (type: string, object: V1Deployment & { code?: number; message?: string }) => {
              const version = object.metadata?.resourceVersion ?? '';
              if (type === 'ERROR') {
                if (object.code === 410)
                  fail(new WatchExpiredError(`resourceVersion ${resourceVersion} is too old: ${object.message ?? ''}`));
                else fail(kubeError(new ApiException(object.code ?? 500, object.message ?? 'watch error', object, {}), action));
              } else if (type === 'BOOKMARK') onEvent({ type, resourceVersion: version });
              else if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')
                onEvent({ type, deployment: object, resourceVersion: version });
            },
            (error: unknown) => {
              const status = (error as { statusCode?: number } | null)?.statusCode;
              if (status === 410) fail(new WatchExpiredError(`resourceVersion ${resourceVersion} is too old`));
              else if (status) fail(kubeError(new ApiException(status, `HTTP ${status}`, undefined, {}), action));
              else if (error && !signal.aborted && !started) fail(kubeError(error, action));
              // A stream that drops or that the server ends: the caller watches again from the last resourceVersion.
              else resolveEnded();
            },
          )
          .then(
            (controller) => {
              if (signal.aborted) controller.abort();
              else signal.addEventListener('abort', () => controller.abort(), { once: true });
              if (refused) controller.abort();
              else if (!started) {
                started = true;
                resolveStarted({ ended });
              }
            },
            (error: unknown) => fail(kubeError(error, action)),
          );
      });
    },
  };
}
