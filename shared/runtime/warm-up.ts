import type { FunctionRuntime } from './runtimes.ts';

/**
 * Starts, at cold start and side by side, what a function's first request
 * would otherwise wait on one after the other: Google's token certificates,
 * and the cluster's connection (for GKE, a call to its API for the
 * endpoint). They then run while the framework starts serving and that
 * request arrives. A failure is left to the request, which tries again and
 * answers it.
 */
export function warmUp(runtime: Pick<FunctionRuntime, 'verifier' | 'cluster'>): void {
  void runtime.verifier.warmUp().catch(() => undefined);
  void runtime.cluster().catch(() => undefined);
}
