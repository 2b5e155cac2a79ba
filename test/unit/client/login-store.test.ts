import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configDir, LoginStore, type StoredLogin } from '../../../client/login-store.ts';

const login: StoredLogin = {
  clientId: 'cli.apps.googleusercontent.com',
  clientSecret: 'not-secret',
  authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenEndpoint: 'https://oauth2.googleapis.com/token',
  refreshToken: '1//0refresh',
  email: 'ada@example.com',
};

describe('configDir', () => {
  it.each([
    [{ XDG_CONFIG_HOME: '/x/config', HOME: '/home/ada' }, '/x/config/allocator'],
    [{ XDG_CONFIG_HOME: ' ', HOME: '/home/ada' }, '/home/ada/.config/allocator'],
    [{ HOME: '/home/ada' }, '/home/ada/.config/allocator'],
  ])('%j → %s', (env, dir) => expect(configDir(env)).toBe(dir));
});

describe('LoginStore', () => {
  const dirs: string[] = [];
  const freshDir = (): string => {
    const root = mkdtempSync(join(tmpdir(), 'allocator-logins-'));
    dirs.push(root);
    return join(root, 'allocator');
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps one login per allocator in a 0600 file in a 0700 directory', () => {
    const store = new LoginStore(freshDir());
    expect(store.get('https://a.test/x')).toBeUndefined();
    store.set('https://a.test/x', login);
    store.set('https://b.test/y', { ...login, email: 'bo@example.com' });
    expect(store.get('https://a.test/x')).toEqual(login);
    expect(store.get('https://b.test/y')?.email).toBe('bo@example.com');
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
  });

  it('narrows an existing directory to 0700', () => {
    const dir = freshDir();
    mkdirSync(dir, { mode: 0o755 });
    new LoginStore(dir).set('https://a.test/x', login);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('forgets one allocator, and removes the file with the last', () => {
    const store = new LoginStore(freshDir());
    store.set('https://a.test/x', login);
    store.set('https://b.test/y', login);
    expect(store.delete('https://a.test/x')).toEqual(login);
    expect(store.get('https://a.test/x')).toBeUndefined();
    expect(store.delete('https://a.test/x')).toBeUndefined();
    expect(existsSync(store.file)).toBe(true);
    store.delete('https://b.test/y');
    expect(existsSync(store.file)).toBe(false);
  });

  it('names the file and the fix when it is not JSON', () => {
    const store = new LoginStore(freshDir());
    mkdirSync(store.dir, { recursive: true });
    writeFileSync(store.file, 'nonsense');
    expect(() => store.get('https://a.test/x')).toThrow(/logins\.json is not a JSON object of logins .*delete it and run allocator login/);
  });
});
