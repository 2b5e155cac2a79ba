import type { ServerResponse } from 'node:http';
import { finished as streamFinished, type Readable } from 'node:stream';

/** The size of each buffer a streamed answer is copied into, and so the most bytes sent in one write. */
const SLAB_BYTES = 64 * 1024;
/** How many such buffers one answer may hold: what is read ahead of the caller, written or waiting to be. */
const SLABS = 4;

/**
 * How many bytes relayed between two young-generation collections, where the
 * runtime exposes them (`--expose-gc`, in the list function's deployed
 * NODE_OPTIONS). Each piece read from a socket is a buffer of its own, which
 * V8 does not count toward its young generation's filling: left to itself it
 * collects them only once enough JavaScript garbage has piled up, and the
 * function grows by what it relayed meanwhile (about 10 MB while following a
 * pod that writes 50 MB; about 3 MB with a collection every 512 KB, each a
 * fraction of a millisecond with 1 MB semi-spaces: docs/benchmarks.md).
 */
const BYTES_PER_YOUNG_COLLECTION = 512 * 1024;

const collectYoung = (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc;

/** One of the buffers an answer is copied into: filled from the start, sent a piece at a time. */
interface Slab {
  readonly bytes: Buffer;
  /** Pieces written that the response has not yet finished with. */
  unfinished: number;
  /** A write of it failed: the socket may still hold it, so it is dropped rather than filled again. */
  failed: boolean;
}

/**
 * Sends `stream` as the body of `res` (whose headers are out), in few large
 * writes and without allocating as it goes: what the source gives (a log API
 * flushes a line or a few at a time) is copied into one of SLABS reused
 * buffers and written when the buffer is full or at the end of the event
 * loop's turn; the next pieces go after it in the same buffer, and a buffer
 * is filled again from its start only once the response has finished every
 * write of it. A copy or a buffer per piece would otherwise wait for V8's next
 * collection, and the function grows by what has been sent meanwhile.
 *
 * Backpressure holds end to end: with every buffer waiting on the caller the
 * source is paused, so its socket stops being read. A failing source cuts the
 * response short and rejects with its error; a caller that goes away ends the
 * source (closing its connection upstream) and is reported, not thrown.
 */
export function sendStream(stream: Readable, res: ServerResponse, report: (event: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const free: Slab[] = [];
    let allocated = 0;
    /** The buffer being filled: `bytes[sent, filled)` is taken and not yet written. */
    let current: Slab | undefined;
    let sent = 0;
    let filled = 0;
    /** What a piece left over when every buffer was out: taken first once one comes back. */
    let held: Buffer | undefined;
    let scheduled: NodeJS.Immediate | undefined;
    let ended = false;
    let settled = false;
    let sinceCollection = 0;

    const settle = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      if (scheduled) clearImmediate(scheduled);
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    const acquire = (): Slab | undefined => {
      const reused = free.pop();
      if (reused || allocated === SLABS) return reused;
      allocated += 1;
      return { bytes: Buffer.allocUnsafeSlow(SLAB_BYTES), unfinished: 0, failed: false };
    };
    const finished = (slab: Slab): void => {
      if (!slab.failed) free.push(slab);
      if (settled || !held) return;
      const rest = held;
      held = undefined;
      take(rest);
      if (held) return;
      if (ended) end();
      else stream.resume();
    };
    const send = (): void => {
      if (scheduled) clearImmediate(scheduled);
      scheduled = undefined;
      const slab = current;
      if (!slab || filled === sent) return;
      slab.unfinished += 1;
      res.write(slab.bytes.subarray(sent, filled), (error) => {
        slab.unfinished -= 1;
        if (error) slab.failed = true;
        if (slab !== current && slab.unfinished === 0) finished(slab);
      });
      sent = filled;
      // A full buffer comes back once its last write is finished.
      if (filled === SLAB_BYTES) current = undefined;
    };
    const take = (piece: Buffer | string | Uint8Array): void => {
      // An object-mode source (a watch's lines) gives strings.
      const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
      sinceCollection += chunk.length;
      if (collectYoung && sinceCollection >= BYTES_PER_YOUNG_COLLECTION) {
        sinceCollection = 0;
        collectYoung({ type: 'minor' });
      }
      let offset = 0;
      while (offset < chunk.length) {
        if (!current) {
          current = acquire();
          sent = filled = 0;
          if (!current) {
            held = chunk.subarray(offset);
            stream.pause();
            return;
          }
        }
        const copied = chunk.copy(current.bytes, filled, offset);
        filled += copied;
        offset += copied;
        if (filled === SLAB_BYTES) send();
      }
      if (filled > sent) scheduled ??= setImmediate(send);
    };
    const end = (): void => {
      send();
      res.end();
    };

    stream.on('data', take);
    stream.once('end', () => {
      ended = true;
      // With a piece still held, finished() sends it, then ends.
      if (!held) end();
    });
    // A source that fails, or closes before its end: the response is cut short.
    streamFinished(stream, (error) => {
      if (!error || settled) return;
      res.destroy(error);
      settle(error);
    });
    res.once('finish', () => settle());
    res.once('close', () => {
      if (settled || res.writableFinished) return;
      stream.destroy();
      report('the caller closed the stream');
      settle();
    });
  });
}
