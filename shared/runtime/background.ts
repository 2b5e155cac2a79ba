/**
 * Work a request starts and does not wait for (a pool disk's refill). Each
 * task's failure goes to `onError`; `settled` lets whoever stops the process
 * (a test's stack, the bench) wait until none is left running.
 */
export interface Background {
  run(task: () => Promise<unknown>): void;
  settled(): Promise<void>;
}

export function makeBackground(onError: (error: unknown) => void = () => undefined): Background {
  const running = new Set<Promise<unknown>>();
  return {
    run(task) {
      const promise = task()
        .catch(onError)
        .finally(() => running.delete(promise));
      running.add(promise);
    },
    async settled() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
