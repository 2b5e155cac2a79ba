import type { ParseArgsConfig } from 'node:util';
import type { AllocatorClient } from '../client/allocator-client.ts';

/** One `allocator` command: its help, its options, and what it does. */
export interface Command {
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  readonly run: (context: {
    client: () => AllocatorClient;
    values: Record<string, string | boolean | undefined>;
    positionals: string[];
    rest: string[];
  }) => Promise<number>;
}

/** Bad usage: the message and the command's help, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const waitTimeoutOption = { 'wait-timeout': { type: 'string' } } as const;

/** A whole number of seconds from an option, or its default. */
export function seconds(values: Record<string, string | boolean | undefined>, option: string, fallback: number): number {
  const text = values[option];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${option} takes a whole number of seconds`);
  return value;
}

export function waitTimeout(values: Record<string, string | boolean | undefined>): number {
  return seconds(values, 'wait-timeout', 240);
}

let interrupt: AbortController | undefined;
/** Aborted by the first SIGINT or SIGTERM. */
export function interruptSignal(): AbortSignal {
  if (!interrupt) {
    const controller = new AbortController();
    interrupt = controller;
    const onSignal = (signal: NodeJS.Signals): void => controller.abort(signal);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  return interrupt.signal;
}
