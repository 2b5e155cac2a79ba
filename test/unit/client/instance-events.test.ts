import { describe, expect, it } from 'vitest';
import { readWatch, serverSentEvents } from '../../../client/instance-events.ts';

const bytes = (...chunks: string[]): AsyncIterable<Uint8Array> =>
  (async function* () {
    for (const chunk of chunks) yield new TextEncoder().encode(chunk);
  })();

const instance = (name: string): string =>
  JSON.stringify({
    name,
    owner: 'ada@example.com',
    mountName: `/ns/${name}`,
    accessList: { In: [] },
    creationTime: '2026-01-02T15:04:05Z',
    replicas: 1,
    readyReplicas: 1,
    version: 'v1',
    disk: name,
    expiresAt: null,
    parameters: {},
    state: 'ready',
    problems: [],
  });

describe('serverSentEvents', () => {
  it('reads events across chunks, a bare id included, comments skipped', async () => {
    const events = [];
    for await (const event of serverSentEvents(bytes('event: deleted\nid: 4', '2\ndata: {"name":"a"}\n\n: hi\n\nid: 43\n\n')))
      events.push(event);
    expect(events).toEqual([
      { event: 'deleted', id: '42', data: '{"name":"a"}' },
      { event: undefined, id: '43', data: undefined },
    ]);
  });
});

describe('readWatch', () => {
  it('opens the stream again from the last id, bare ones included, until aborted', async () => {
    const opened: (string | undefined)[] = [];
    const abort = new AbortController();
    const streams = [
      `event: instance\ndata: ${instance('syncbased-00000001')}\n\nevent: synced\nid: 7,9\ndata: {"names":["syncbased-00000001"]}\n\nid: 8,9\n\n`,
      `event: deleted\nid: 10,9\ndata: {"name":"syncbased-00000001"}\n\n`,
    ];
    const seen = [];
    for await (const event of readWatch({
      open: async (since) => {
        opened.push(since);
        if (opened.length === 2) queueMicrotask(() => abort.abort());
        return bytes(streams[opened.length - 1] ?? '');
      },
      signal: abort.signal,
      retryable: () => true,
    }))
      seen.push(event);
    expect(opened).toEqual([undefined, '8,9']);
    expect(seen.map((event) => event.type)).toEqual(['instance', 'synced', 'deleted']);
  });

  it('gives up at once on a failure that is not worth another open', async () => {
    const refused = new Error('403');
    const read = readWatch({ open: () => Promise.reject(refused), retryable: () => false });
    await expect(read.next()).rejects.toBe(refused);
  });
});
