/** One thing to undo, as the stack holds it. */
interface UndoEntry {
  readonly label: string;
  readonly action: () => Promise<unknown>;
}

/**
 * The undo actions of a multi-step operation, run last-first on failure. An
 * undo that fails is reported, not thrown: the caller needs the original
 * error, and the sweep removes what is left.
 */
export class UndoStack {
  readonly #entries: UndoEntry[] = [];
  readonly #report: (event: string) => void;

  constructor(report: (event: string) => void) {
    this.#report = report;
  }

  push(label: string, action: () => Promise<unknown>): UndoEntry {
    const entry = { label, action };
    this.#entries.push(entry);
    return entry;
  }

  remove(entry: UndoEntry): void {
    const index = this.#entries.indexOf(entry);
    if (index >= 0) this.#entries.splice(index, 1);
  }

  /**
   * Runs a step that may have taken effect even when it fails (an answer lost
   * to a timeout or a dropped connection): its undo is pushed first and kept
   * unless the error says the step did not happen.
   */
  async step<T>(label: string, undo: () => Promise<unknown>, act: () => Promise<T>, didNotHappen: (error: unknown) => boolean): Promise<T> {
    const entry = this.push(label, undo);
    try {
      return await act();
    } catch (error) {
      if (didNotHappen(error)) this.remove(entry);
      throw error;
    }
  }

  /** Hands every undo of this stack to `target`, in order: a sub-step that succeeded becomes part of the whole. */
  moveTo(target: UndoStack): void {
    for (const entry of this.#entries.splice(0)) target.push(entry.label, entry.action);
  }

  async unwind(): Promise<void> {
    for (const entry of this.#entries.splice(0).reverse()) {
      try {
        await entry.action();
      } catch (error) {
        this.#report(`could not undo ${entry.label}: ${(error as Error).message}`);
      }
    }
  }
}
