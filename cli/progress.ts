import type { ProgressLine } from '../client/allocator-client.ts';

/** Progress on stderr: a live status line on a terminal, plain lines otherwise. */
export interface Progress {
  update(text: string): void;
  done(text?: string): void;
}

export function makeProgress(stream: NodeJS.WriteStream = process.stderr, options: { plainEveryMs?: number } = {}): Progress {
  if (stream.isTTY) {
    let width = 0;
    return {
      update(text) {
        stream.write(`\r${text.padEnd(width)}`);
        width = text.length;
      },
      done(text) {
        stream.write(`\r${(text ?? '').padEnd(width)}\n`);
        width = 0;
      },
    };
  }
  let last = '';
  let lastAt = 0;
  const every = options.plainEveryMs ?? 5_000;
  return {
    update(text) {
      // A plain line when the status changes, or now and then while it does not.
      const status = text.replace(/\s*\(\d+s\)$/, '');
      if (status === last && Date.now() - lastAt < every) return;
      last = status;
      lastAt = Date.now();
      stream.write(`${text}\n`);
    },
    done(text) {
      if (text) stream.write(`${text}\n`);
    },
  };
}

/**
 * Shows an operation's progress stream: each step on a line of its own with
 * how long it took since the step before, and ready with the whole time. A
 * place in line only moves the status line, as it changes often.
 */
export class StepLines {
  readonly #progress: Progress;
  readonly #label: string;
  readonly #now: () => number;
  readonly #started: number;
  #last: number;
  #name: string | undefined;

  /** `label` names the instance until a line does (a create's name is drawn by the allocator). */
  constructor(progress: Progress, label: string, now: () => number = Date.now) {
    this.#progress = progress;
    this.#label = label;
    this.#now = now;
    this.#started = this.#last = now();
  }

  /** The instance, once a line named it. */
  get name(): string | undefined {
    return this.#name;
  }

  readonly show = (line: ProgressLine): void => {
    this.#name = line.name ?? this.#name;
    const who = this.#name ?? this.#label;
    const now = this.#now();
    // As the queue's own answer words it (queue-options.ts), so a plain log shows a place once, not twice.
    if (line.step === 'queued') return this.#progress.update(`queued: ${line.message}`);
    const took = line.step === 'ready' ? now - this.#started : now - this.#last;
    this.#last = now;
    this.#progress.done(`${who}: ${line.message} (${(took / 1000).toFixed(1)}s)`);
  };
}
