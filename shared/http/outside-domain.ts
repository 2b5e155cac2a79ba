import type { Domain } from 'node:domain';

/**
 * Runs `start` with no Node domain active, and so the async work it starts
 * (a stream's sockets, timers, ticks, writes, promises) outside it. The
 * functions-framework runs each request in a domain, whose async hook gives
 * every async resource created inside one a Map entry and a `domain`
 * property, and whose emitters enter it on every event: a stream started in
 * it makes that garbage on every chunk, V8 promotes much of it, and the
 * function grows by it until a full collection. What `start` starts is no
 * longer caught by the domain: its errors must be handled by the code (a
 * stream's reach its promise or its listeners).
 */
export function outsideDomain<T>(start: () => T): T {
  const domain = (process as { domain?: Domain | null }).domain;
  if (!domain) return start();
  domain.exit();
  try {
    return start();
  } finally {
    domain.enter();
  }
}
