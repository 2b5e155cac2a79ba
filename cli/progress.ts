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
