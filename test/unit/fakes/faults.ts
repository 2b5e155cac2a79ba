/** Failures to inject into a fake's calls: before the work (nothing happened) or after it (the answer was lost). */
export interface Fault {
  readonly method: string;
  /** `before`: fail without doing the work; `after`: do it, then fail as a lost answer would. */
  readonly when: 'before' | 'after';
  readonly error: () => Error;
  /** Which call of `method` fails, counting from 1; default the next one. */
  readonly nth?: number;
}

/** Counts calls and injects faults, for the in-memory fakes of ClusterClient and DisksApi. */
export class Faults {
  readonly calls: string[] = [];
  readonly #pending: (Fault & { remaining: number })[] = [];

  inject(fault: Fault): void {
    this.#pending.push({ ...fault, remaining: fault.nth ?? 1 });
  }

  /** Runs one call of `method`, with whatever fault is due on it. */
  async run<T>(method: string, work: () => T): Promise<T> {
    this.calls.push(method);
    const due = this.#pending.find((fault) => fault.method === method && (fault.remaining -= 1) === 0);
    if (due) this.#pending.splice(this.#pending.indexOf(due), 1);
    await Promise.resolve();
    if (due?.when === 'before') throw due.error();
    const result = work();
    if (due?.when === 'after') throw due.error();
    return result;
  }
}

/** A label selector as Allocator writes them: `k=v` and bare `k` (exists), comma-separated. */
export function matchesSelector(labels: Readonly<Record<string, string>> | undefined, selector: string): boolean {
  return selector
    .split(',')
    .filter((term) => term !== '')
    .every((term) => {
      const [key = '', value] = term.split('=');
      return value === undefined ? labels?.[key] !== undefined : labels?.[key] === value;
    });
}

/** Pages of `items`, with the offset of the next page as its token. */
export function pageOf<T>(items: readonly T[], options: { limit?: number; token?: string }): { items: T[]; next?: string } {
  const start = Number(options.token ?? 0);
  const end = options.limit === undefined ? items.length : start + options.limit;
  return { items: items.slice(start, end), ...(end < items.length ? { next: String(end) } : {}) };
}
