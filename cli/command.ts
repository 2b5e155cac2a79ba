import type { ParseArgsConfig } from 'node:util';
import type { AllocatorClient } from '../client/allocator-client.ts';
import type { OperationId } from '../shared/api/operations.ts';

/** The options a command was given, as parseArgs reads them (a repeatable option gives a list). */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** One `allocator` command: its help, its options, and what it does. */
export interface Command {
  /** The operation it runs, whose summary the help shows; or, for a command of the CLI's own, its summary. */
  readonly operation?: OperationId;
  readonly summary?: string;
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  readonly run: (context: {
    client: () => AllocatorClient;
    /** The allocator value as given (--allocator or $ALLOCATOR), for commands that do not call it through the client. */
    allocator: string | undefined;
    values: OptionValues;
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
export function seconds(values: OptionValues, option: string, fallback: number): number {
  const text = values[option];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${option} takes a whole number of seconds`);
  return value;
}

export function waitTimeout(values: OptionValues): number {
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

/** The option (or argument) that sends each request field: the help of a command bound to an operation names each of its fields' flags. */
export const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  name: '<name>',
  wait: '--no-wait',
  waitTimeoutSeconds: '--wait-timeout',
  lifetimeSeconds: '--lifetime',
  parameters: '--param',
  queue: '--queue',
  queueTimeoutSeconds: '--queue-timeout',
  dryRun: '--dry-run',
  all: '--all',
  emails: '<email>...',
  to: '<email>',
  now: '--now',
  follow: '--follow',
  since: '--since',
  sinceTime: '--since-time',
  tailLines: '--tail',
  container: '--container',
};
