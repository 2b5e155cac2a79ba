import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AllocatorClient, Instance } from '../../../client/allocator-client.ts';
import { SHARING_COMMANDS } from '../../../cli/sharing-commands.ts';

// Issue 29: emails reach other people's terminals through these commands, so none of their control characters may.
const CONTROL = /\p{Cc}/u;
/** The same, but for the newlines between JSON's lines. */
const CONTROL_BUT_NEWLINE = /(?!\n)\p{Cc}/u;
const ESC = '\u001b';

const instance: Instance = {
  name: 'syncbased-1a2b3c4d',
  owner: `mallory${ESC}]0;pwned\u0007@example.com`,
  mountName: '/m/x',
  accessList: { In: [] },
  creationTime: '2026-11-25T00:00:00.000Z',
  replicas: 1,
  readyReplicas: 1,
  version: 'v1',
  disk: 'syncbased-1a2b3c4d',
  expiresAt: null,
  parameters: { note: 'a\u009b31mb' },
  state: 'ready',
  problems: [],
  collaborators: [`bea${ESC}[2J@example.com`, 'cy\u009b31m@example.com'],
};

const client = (() => ({
  share: async () => instance,
  unshare: async () => instance,
  transfer: async () => instance,
})) as unknown as () => AllocatorClient;

async function printed(command: 'share' | 'unshare' | 'transfer', json: boolean): Promise<string> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
  const positionals = [instance.name, 'bea@example.com'];
  expect(await SHARING_COMMANDS[command]!.run({ client, allocator: undefined, values: { json }, positionals, rest: [] })).toBe(0);
  return lines.join('\n');
}

afterEach(() => vi.restoreAllMocks());

describe('share, unshare and transfer print no control characters', () => {
  it.each(['share', 'unshare'] as const)('%s: the owner and the collaborators, escaped', async (command) => {
    const text = await printed(command, false);
    expect(text).not.toMatch(CONTROL);
    expect(text).toBe(
      'syncbased-1a2b3c4d: owned by mallory\\x1b]0;pwned\\x07@example.com, shared with bea\\x1b[2J@example.com, cy\\x9b31m@example.com',
    );
  });

  it('transfer: the new owner, escaped', async () => {
    expect(await printed('transfer', false)).toBe('syncbased-1a2b3c4d: owned by mallory\\x1b]0;pwned\\x07@example.com');
  });

  it.each(['share', 'unshare', 'transfer'] as const)(
    '%s --json: valid JSON of the same instance, with DEL and C1 escaped too',
    async (command) => {
      const text = await printed(command, true);
      expect(text).not.toMatch(CONTROL_BUT_NEWLINE);
      expect(JSON.parse(text)).toEqual(instance);
    },
  );
});
