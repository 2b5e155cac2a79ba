import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startHeartbeat } from '../../../client/heartbeat.ts';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

const HOUR = 3_600_000;

/** A renew that succeeds unless `failing`, recording when it was called (fake time since the start). */
function renewal(start = Date.now()) {
  const state = { failing: false, calls: [] as number[] };
  const renew = async (): Promise<void> => {
    state.calls.push(Date.now() - start);
    if (state.failing) throw new Error('503 UNAVAILABLE');
  };
  return { state, renew };
}

describe('startHeartbeat', () => {
  it('renews every third of the lease with no end of its own: ten hours of a 600 s lease', async () => {
    const { state, renew } = renewal();
    const onLost = vi.fn();
    const heartbeat = startHeartbeat(renew, 600, { onLost });
    await vi.advanceTimersByTimeAsync(10 * HOUR);
    expect(state.calls).toHaveLength(180);
    expect(state.calls.slice(0, 3)).toEqual([200_000, 400_000, 600_000]);
    expect(onLost).not.toHaveBeenCalled();
    heartbeat.stop();
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(state.calls).toHaveLength(180);
  });

  it('retries a failed renewal every twelfth of the lease, saying how long is left, and carries on once one succeeds', async () => {
    const { state, renew } = renewal();
    const onError = vi.fn();
    const onLost = vi.fn();
    startHeartbeat(renew, 600, { onError, onLost });
    state.failing = true;
    await vi.advanceTimersByTimeAsync(300_000);
    expect(state.calls).toEqual([200_000, 250_000, 300_000]);
    expect(onError.mock.calls.map(([, leftMs]) => leftMs)).toEqual([400_000, 350_000, 300_000]);
    state.failing = false;
    await vi.advanceTimersByTimeAsync(1_000_000);
    expect(state.calls).toEqual([200_000, 250_000, 300_000, 350_000, 550_000, 750_000, 950_000, 1_150_000]);
    expect(onLost).not.toHaveBeenCalled();
  });

  it('gives the lease up when no renewal succeeds before it runs out, counted from the last success, and stops', async () => {
    const { state, renew } = renewal();
    const onLost = vi.fn();
    startHeartbeat(renew, 600, { onLost });
    await vi.advanceTimersByTimeAsync(200_000); // one success, at 200 s: the lease now runs to 800 s
    state.failing = true;
    await vi.advanceTimersByTimeAsync(599_999);
    expect(onLost).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(onLost).toHaveBeenCalledTimes(1);
    expect(onLost).toHaveBeenCalledWith(new Error('503 UNAVAILABLE'));
    const calls = state.calls.length;
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(state.calls).toHaveLength(calls);
    expect(onLost).toHaveBeenCalledTimes(1);
  });

  it('gives the lease up when a renewal hangs past its end', async () => {
    const onLost = vi.fn();
    startHeartbeat(() => new Promise(() => undefined), 3, { onLost });
    await vi.advanceTimersByTimeAsync(2_999);
    expect(onLost).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(onLost).toHaveBeenCalledWith(undefined);
  });

  it('counts a renewal from when it was sent: one slow to answer buys no extra time', async () => {
    let answer: () => void = () => undefined;
    let calls = 0;
    const renew = (): Promise<void> => {
      calls += 1;
      if (calls === 1) return new Promise((resolve) => (answer = resolve)); // sent at 3 s, answered at 8 s
      return Promise.reject(new Error('down'));
    };
    const onLost = vi.fn();
    startHeartbeat(renew, 9, { onLost });
    await vi.advanceTimersByTimeAsync(8_000);
    answer();
    await vi.advanceTimersByTimeAsync(3_999); // the lease runs to 3 s + 9 s = 12 s
    expect(onLost).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(onLost).toHaveBeenCalledTimes(1);
  });
});
