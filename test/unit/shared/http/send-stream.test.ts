import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { sendStream } from '../../../../shared/http/send-stream.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections(); // fetch keeps its connections open for the next request
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Serves `source()` through sendStream; answers the URL, and what each request's sending came to. */
async function serve(source: () => Readable): Promise<{ url: string; sent: { writes: number; outcome: Promise<string> }[] }> {
  const sent: { writes: number; outcome: Promise<string> }[] = [];
  server = createServer((_req, res: ServerResponse) => {
    const record = { writes: 0, outcome: Promise.resolve('') };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    res.write = ((...args: unknown[]) => {
      record.writes += 1;
      return write(...args);
    }) as typeof res.write;
    // As makeHttpFunction does: the headers are out before the first byte of the body.
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.flushHeaders();
    const events: string[] = [];
    record.outcome = sendStream(source(), res, (event) => events.push(event)).then(
      () => events.join(', ') || 'sent',
      (error: unknown) => `failed: ${(error as Error).message}`,
    );
    sent.push(record);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, sent };
}

const line = (i: number): string => `2026-01-02T15:04:05.${String(i).padStart(9, '0')}Z line ${i} ${'x'.repeat(80)}\n`;

describe('sendStream', () => {
  it('sends many small pieces whole and in order, in a few large writes', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => line(i));
    const { url, sent } = await serve(() => Readable.from(lines.map((text) => Buffer.from(text))));
    const body = await (await fetch(url)).text();
    expect(body).toBe(lines.join(''));
    expect(await sent[0]!.outcome).toBe('sent');
    // 2 MB in 64 KiB buffers: a few dozen writes, not one per line.
    expect(sent[0]!.writes).toBeLessThan(Buffer.byteLength(body) / 16_384);
  });

  it('passes on pieces larger than its buffers, and strings, unchanged', async () => {
    const pieces = [Buffer.alloc(300_000, 'a'), 'é'.repeat(100_000), Buffer.alloc(70_000, 'b'), ''];
    const { url, sent } = await serve(() => Readable.from(pieces));
    expect(await (await fetch(url)).text()).toBe(pieces.map(String).join(''));
    expect(await sent[0]!.outcome).toBe('sent');
  });

  it('reads its source no faster than the caller takes the answer', async () => {
    let read = 0;
    const { url } = await serve(
      () =>
        new Readable({
          read() {
            read += 65_536;
            this.push(Buffer.alloc(65_536, 'x'));
          },
        }),
    );
    const gone = new AbortController();
    const response = await fetch(url, { signal: gone.signal });
    const reader = response.body!.getReader();
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stalled = read;
    await new Promise((resolve) => setTimeout(resolve, 300));
    // What the sockets' buffers hold, then nothing more while the caller reads nothing.
    expect(read).toBe(stalled);
    expect(read).toBeLessThan(64 * 1024 * 1024);
    gone.abort();
  });

  it('cuts the answer short when its source fails, and rejects with its error', async () => {
    const { url, sent } = await serve(() =>
      Readable.from(
        (async function* () {
          yield line(1);
          throw new Error('the API server went away');
        })(),
      ),
    );
    const response = await fetch(url);
    await expect(response.text()).rejects.toThrow();
    expect(await sent[0]!.outcome).toBe('failed: the API server went away');
  });

  it('ends its source when the caller goes, and reports it rather than failing', async () => {
    let destroyed = false;
    const { url, sent } = await serve(
      () =>
        new Readable({
          read() {
            setTimeout(() => this.push(line(0)), 5);
          },
          destroy(error, callback) {
            destroyed = true;
            callback(error);
          },
        }),
    );
    const gone = new AbortController();
    const response = await fetch(url, { signal: gone.signal });
    await response.body!.getReader().read();
    gone.abort();
    expect(await sent[0]!.outcome).toBe('the caller closed the stream');
    expect(destroyed).toBe(true);
  });
});
