import { fileURLToPath } from 'node:url';

/** What a running `npm run local` tells other commands (the token command, the CLI). */
export interface LocalStackInfo {
  readonly issuerUrl: string;
  readonly audience: string;
  readonly urls: { readonly create: string; readonly destroy: string; readonly list: string };
  /** The dashboard's page, served by list. */
  readonly dashboard: string;
  /** The value for the CLI's --allocator or $ALLOCATOR. */
  readonly allocator: string;
  readonly pid: number;
}

/** `.local/stack.json` in the checkout (or `$ALLOCATOR_LOCAL_STACK_FILE`); removed when the stack stops. */
export const STACK_FILE = process.env.ALLOCATOR_LOCAL_STACK_FILE ?? fileURLToPath(new URL('../.local/stack.json', import.meta.url));
