/** What a heartbeat tells its owner. */
export interface HeartbeatHandlers {
  /** A renewal failed; `leftMs` is how long the lease has left, as far as this process knows. */
  readonly onError?: (error: unknown, leftMs: number) => void;
  /**
   * Renewals failed until the lease ran out: nothing holds the instance any
   * more, and the next cleanup sweep may destroy it. Called once; the
   * heartbeat has stopped.
   */
  readonly onLost?: (lastError: unknown) => void;
}

export interface Heartbeat {
  stop(): void;
}

/**
 * Renews a lease of `leaseSeconds` every third of that, for as long as it
 * runs: it has no end of its own, only `stop`. A failed renewal is tried
 * again every twelfth of the lease (at least every second) until one
 * succeeds; when none has by the time the lease would run out, counted from
 * the last success's request (or from the start), it calls `onLost` and
 * stops. Its timers do not keep the process alive.
 */
export function startHeartbeat(renew: () => Promise<unknown>, leaseSeconds: number, handlers: HeartbeatHandlers = {}): Heartbeat {
  const leaseMs = leaseSeconds * 1000;
  const everyMs = Math.max(1000, leaseMs / 3);
  const retryMs = Math.max(1000, leaseMs / 12);
  let expiresAt = Date.now() + leaseMs;
  let lastError: unknown;
  let stopped = false;
  let beat: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;

  const schedule = (delayMs: number): void => {
    beat = setTimeout(() => void renewNow(), delayMs);
    beat.unref();
  };
  const watchDeadline = (): void => {
    clearTimeout(deadline);
    deadline = setTimeout(lose, Math.max(0, expiresAt - Date.now()));
    deadline.unref();
  };
  const renewNow = async (): Promise<void> => {
    const sentAt = Date.now();
    try {
      await renew();
      if (stopped) return;
      expiresAt = sentAt + leaseMs; // the server counts from when it got the request, which is no earlier
      watchDeadline();
      schedule(everyMs);
    } catch (error) {
      if (stopped) return;
      lastError = error;
      handlers.onError?.(error, Math.max(0, expiresAt - Date.now()));
      schedule(Math.min(retryMs, Math.max(0, expiresAt - Date.now())));
    }
  };
  function lose(): void {
    if (stopped) return;
    stop();
    handlers.onLost?.(lastError);
  }
  function stop(): void {
    stopped = true;
    clearTimeout(beat);
    clearTimeout(deadline);
  }

  schedule(everyMs);
  watchDeadline();
  return { stop };
}
