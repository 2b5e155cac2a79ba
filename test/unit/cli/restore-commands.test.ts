import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { printDestroyed } from '../../../cli/restore-commands.ts';

const entry = {
  name: 'syncbased-1a2b3c4d',
  owner: 'ada@example.com',
  mountName: '/ns/allocated/syncbased-1a2b3c4d',
  destroyedAt: '2026-11-25T12:00:00.000Z',
  restorableUntil: '2026-11-26T12:00:00.000Z',
};

describe('allocator list --destroyed', () => {
  let out: string[];
  let err: string[];
  beforeEach(() => {
    out = [];
    err = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
    vi.spyOn(console, 'error').mockImplementation((line: string) => void err.push(line));
  });
  afterEach(() => vi.restoreAllMocks());

  it('says that restore is off, and which setting turns it on, where the allocator keeps no disks', async () => {
    expect(await printDestroyed(async () => ({ destroyed: [], restoreWindowSeconds: 0 }), {})).toBe(0);
    expect(out).toEqual([]);
    expect(err).toEqual([
      'allocator: restore is off here: this allocator keeps no disk after a destroy, so none can be restored.',
      "Its operator turns it on with ALLOCATOR_RESTORE_WINDOW_SECONDS (the deploy's _RESTORE_WINDOW_SECONDS).",
    ]);
  });

  it('keeps --json a list, and the message on stderr', async () => {
    expect(await printDestroyed(async () => ({ destroyed: [], restoreWindowSeconds: 0 }), { json: true })).toBe(0);
    expect(out).toEqual(['[]']);
    expect(err[0]).toMatch(/^allocator: restore is off here/);
  });

  it.each([
    ['a list alone', async () => [entry]],
    ['a window', async () => ({ destroyed: [entry], restoreWindowSeconds: 86_400 })],
  ])('lists the names, and says nothing more, given %s', async (_, list) => {
    expect(await printDestroyed(list, {})).toBe(0);
    expect(out).toEqual([entry.name]);
    expect(err).toEqual([]);
  });

  it('prints until when each can be restored with -l', async () => {
    await printDestroyed(
      async () => ({ destroyed: [entry], restoreWindowSeconds: 86_400 }),
      { long: true },
      Date.parse('2026-11-26T11:00:00.000Z'),
    );
    expect(out).toEqual([
      `${entry.name}  ada@example.com  destroyed ${entry.destroyedAt}  restorable until ${entry.restorableUntil} (1h00m left)`,
    ]);
  });
});
