import { describe, expect, it } from 'vitest';
import { isInstanceNameOf, isValidServerName, mountNameOf, newInstanceName, ownerHashOf } from '../../../../shared/instances/naming.ts';

describe('instance names', () => {
  it('are <server-name>-<8 hex>', () => {
    expect(newInstanceName('syncbased', () => Buffer.from([0xde, 0xad, 0xbe, 0xef]))).toBe('syncbased-deadbeef');
    expect(newInstanceName('syncbased')).toMatch(/^syncbased-[0-9a-f]{8}$/);
  });

  it.each([
    ['syncbased', 'syncbased-1a2b3c4d', true],
    ['syncbased', 'syncbased-1A2B3C4D', false],
    ['syncbased', 'syncbased-1a2b3c4', false],
    ['syncbased', 'syncbased-1a2b3c4d5', false],
    ['syncbased', 'other-1a2b3c4d', false],
    ['syncbased', 'syncbased-x-1a2b3c4d', false],
    ['sync', 'syncbased-1a2b3c4d', false],
    ['syncbased', '', false],
  ])('%s owns %j: %s', (server, name, expected) => {
    expect(isInstanceNameOf(server, name)).toBe(expected);
  });

  it.each([
    ['syncbased', true],
    ['a', true],
    ['a'.repeat(54), true],
    ['a'.repeat(55), false],
    ['Syncbased', false],
    ['1sync', false],
    ['sync-', false],
    ['sync_base', false],
  ])('server name %j is valid: %s', (name, expected) => {
    expect(isValidServerName(name)).toBe(expected);
  });
});

describe('ownerHashOf', () => {
  it.each(['test@example.com', 'Test@Example.COM'])('is the hex SHA-1 of the lower-cased email, as allocatord had it: %s', (email) => {
    expect(ownerHashOf(email)).toBe('567159d622ffbb50b11b0efd307be358624a26ee');
  });
});

describe('mountNameOf', () => {
  it.each([
    ['', 'n-1', 'n-1'],
    ['/ns/allocated', 'n-1', '/ns/allocated/n-1'],
    ['/ns/allocated//', 'n-1', '/ns/allocated/n-1'],
  ])('%j + %j = %j', (root, name, expected) => {
    expect(mountNameOf(root, name)).toBe(expected);
  });
});
