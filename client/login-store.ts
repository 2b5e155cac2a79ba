import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { SignInSettings } from '../shared/api/sign-in.ts';

/** What `allocator login` keeps for one allocator: the client it signed in with, and the refresh token. */
export interface StoredLogin extends SignInSettings {
  readonly refreshToken: string;
  /** The email of the ID token the sign-in gave, for `allocator login`'s message and `logout`. */
  readonly email?: string;
}

/**
 * `$XDG_CONFIG_HOME/allocator`, else `~/.config/allocator` (the XDG Base
 * Directory default), as gcloud keeps its credentials under `~/.config/gcloud`.
 */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.config');
  return join(base, 'allocator');
}

/** The refresh tokens, one file keyed by allocator value, readable by its owner only (0600 in a 0700 directory). */
export class LoginStore {
  readonly dir: string;
  readonly file: string;

  constructor(dir: string = configDir()) {
    this.dir = dir;
    this.file = join(dir, 'logins.json');
  }

  get(allocator: string): StoredLogin | undefined {
    return this.#read()[allocator];
  }

  set(allocator: string, login: StoredLogin): void {
    this.#write({ ...this.#read(), [allocator]: login });
  }

  /** Forgets the allocator's login; returns what was kept, if anything. */
  delete(allocator: string): StoredLogin | undefined {
    const logins = this.#read();
    const login = logins[allocator];
    if (login === undefined) return undefined;
    const { [allocator]: _, ...rest } = logins;
    if (Object.keys(rest).length === 0) rmSync(this.file, { force: true });
    else this.#write(rest);
    return login;
  }

  #read(): Record<string, StoredLogin> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new Error(`cannot read ${this.file}: ${(error as Error).message}`, { cause: error });
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      return parsed as Record<string, StoredLogin>;
    } catch (error) {
      throw new Error(`${this.file} is not a JSON object of logins (${(error as Error).message}); delete it and run allocator login`, {
        cause: error,
      });
    }
  }

  /** Written to a private temporary file and renamed over the old one, so that no reader sees half a file. */
  #write(logins: Record<string, StoredLogin>): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(logins, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, this.file);
  }
}
