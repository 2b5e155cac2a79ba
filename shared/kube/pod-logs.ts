import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { ApiException, type KubeConfig } from '@kubernetes/client-node';
import { FailedPreconditionError, type AllocatorError } from '../errors.ts';
import { kubeError } from './kube-errors.ts';

/** Reads a container's log from the Kubernetes log API (`pods/log`), in one namespace. */
export interface PodLogsClient {
  /**
   * Opens the log of `container` in `pod`, with `params` as the log API
   * takes them (`follow`, `sinceTime`, `tailLines`, `timestamps`, ...).
   * Answers once the API server has answered 200: the body, unread, to be
   * piped on; a refusal is thrown as a typed error instead. Aborting
   * `signal` closes the connection.
   */
  open(request: { pod: string; container: string; params: URLSearchParams; signal: AbortSignal }): Promise<Readable>;
}

/** The most of a refusal's body kept: a Kubernetes Status is a few hundred bytes. */
const MAX_ERROR_BYTES = 16 * 1024;

/**
 * The log API through Node's own HTTP client, so that the body is a Node
 * stream read only as fast as it is piped on (the socket's backpressure
 * reaches the API server). `connectTimeoutMs` bounds the time until the
 * answer's headers; a followed stream then runs as long as its reader keeps
 * it.
 */
export function makePodLogsClient(options: { kubeConfig: KubeConfig; namespace: string; connectTimeoutMs: number }): PodLogsClient {
  const { kubeConfig, namespace, connectTimeoutMs } = options;
  return {
    open: async ({ pod, container, params, signal }) => {
      const action = `read the log of container ${container} of Pod ${pod}`;
      const server = kubeConfig.getCurrentCluster()?.server;
      if (!server) throw kubeError(new Error('no current cluster in the kubeconfig'), action);
      const url = new URL(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?${params}`, server);
      const requestOptions: RequestOptions & { headers: Record<string, string> } = { method: 'GET', headers: {} };
      try {
        // The CA, client certificate and credentials, the token fresh for each call; it also builds the agent for them.
        await kubeConfig.applyToHTTPSOptions(requestOptions as Parameters<KubeConfig['applyToHTTPSOptions']>[0]);
      } catch (error) {
        throw kubeError(error, action);
      }
      const response = await answerOf(url, requestOptions, signal, connectTimeoutMs).catch((error: unknown) => {
        throw kubeError(error, action);
      });
      if (response.statusCode === 200) return response;
      throw refusal(response.statusCode ?? 0, await bodyOf(response), action);
    },
  };
}

/** The response's headers within `timeoutMs`, or a TimeoutError; `signal` aborts the request at any time. */
function answerOf(url: URL, options: RequestOptions, signal: AbortSignal, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const request = send(url, { ...options, signal }, (response) => {
      clearTimeout(timer);
      resolve(response);
    });
    const timer = setTimeout(() => {
      const error = new Error(`no answer within ${timeoutMs} ms`);
      error.name = 'TimeoutError';
      request.destroy(error);
    }, timeoutMs);
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end();
  });
}

async function bodyOf(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (size < MAX_ERROR_BYTES) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BYTES);
}

/**
 * A refusal of the log API as a typed error. Its 400s say the pod cannot
 * give logs now (a container still waiting to start, say): a precondition,
 * with the API server's own words. The rest are mapped as every other
 * Kubernetes call's (`kubeError`): 404 gone, 5xx unavailable, 403 RBAC.
 */
export function refusal(status: number, body: string, action: string): AllocatorError {
  const message = messageOf(body);
  if (status === 400) return new FailedPreconditionError(`cannot ${action}: ${message ?? 'the API server refused (HTTP 400)'}`);
  return kubeError(new ApiException(status, message ?? `HTTP ${status}`, body, {}), action);
}

function messageOf(body: string): string | undefined {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return body.trim() === '' ? undefined : body.trim().slice(0, 300);
  }
}
