// The `allocator` command: create, destroy and list instances of a deployed allocator.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import { AllocatorClient, DEFAULT_LEASE_SECONDS, type CreateOptions, type Instance } from '../client/allocator-client.ts';
import type { Heartbeat, HeartbeatHandlers } from '../client/heartbeat.ts';
import { OPERATIONS } from '../shared/api/operations.ts';
import { endpointEnvironment, formatError, formatInstanceBlock, printable } from './format.ts';
import { makeProgress, StepLines, type Progress } from './progress.ts';
import { queueCreateOptions, queueOptions } from './queue-options.ts';
import { interruptSignal, seconds, UsageError, waitTimeout, waitTimeoutOption, type Command, type OptionValues } from './command.ts';
import { LIFECYCLE_COMMANDS } from './lifecycle-commands.ts';
import { LOGIN_COMMANDS } from './login.ts';
import { EVENTS_COMMANDS } from './events-command.ts';
import { LOGS_COMMANDS } from './logs-command.ts';
import { WATCH_COMMANDS } from './watch-command.ts';
import { PARAM_USAGE, paramOption, PARAMETERS_COMMANDS, paramsOf } from './parameters.ts';
import { printDestroyed, RESTORE_COMMANDS } from './restore-commands.ts';
import { SHARING_COMMANDS } from './sharing-commands.ts';

/** run's own exit status when its lease ran out unrenewed and it stopped the command (sysexits' EX_TEMPFAIL: try again later). */
export const LEASE_LOST_STATUS = 75;
/** How long the command has between SIGTERM and SIGKILL once the lease is lost. */
const STOP_GRACE_MS = 10_000;

/** The commands, in the order the help lists them; each one bound to an operation is described by the table's summary. */
function globalHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, command]) => {
    const summary = command.operation ? OPERATIONS[command.operation].summary : (command.summary ?? '');
    return `  ${name.padEnd(width)} ${summary.charAt(0).toLowerCase()}${summary.slice(1)}`;
  });
  return `usage: allocator [--allocator URL] [--token TOKEN] <command> [options]

Commands:
${lines.join('\n')}

Global options:
  --allocator URL   the allocator (or $ALLOCATOR), e.g.
                    https://us-central1-my-project.cloudfunctions.net/syncbase-allocator
  --token TOKEN     a Google ID token (or $ALLOCATOR_TOKEN); otherwise one minted
                    from 'allocator login', then google-auth-library's credentials,
                    then gcloud auth print-identity-token
  -h, --help        this help; 'allocator <command> --help' for a command's

Exit status: 0 on success, 1 on failure, 2 on bad usage; run exits with its
command's status, or ${LEASE_LOST_STATUS} when it lost the instance's lease.`;
}

export const COMMANDS: Record<string, Command> = {
  create: {
    operation: 'create',
    usage: `usage: allocator create [--no-wait] [--json] [--wait-timeout SECONDS] [--lifetime SECONDS]
                        [--queue [--queue-timeout SECONDS]] [--param NAME=VALUE]...

Creates an instance and prints its name (or, with --json, the instance).
--lifetime asks for an expiry other than the allocator's default.
${PARAM_USAGE}
By default it waits until the instance is ready, showing progress on stderr;
an instance not ready within --wait-timeout (default 240) is destroyed.
At a limit it fails at once, unless --queue: then it waits in line for a
slot, showing its place, for at most --queue-timeout seconds if given.`,
    options: {
      'no-wait': { type: 'boolean' },
      json: { type: 'boolean' },
      lifetime: { type: 'string' },
      ...waitTimeoutOption,
      ...queueOptions,
      ...paramOption,
    },
    run: async ({ client, values }) => {
      const lifetime = values.lifetime === undefined ? undefined : Number(values.lifetime);
      if (lifetime !== undefined && (!Number.isInteger(lifetime) || lifetime < 0))
        throw new UsageError('--lifetime takes a whole number of seconds');
      const progress = makeProgress();
      const signal = interruptSignal();
      const parameters = paramsOf(values);
      const create = {
        ...(lifetime === undefined ? {} : { lifetimeSeconds: lifetime }),
        ...(parameters ? { parameters } : {}),
        ...queueCreateOptions(values, { byDefault: false, progress }),
        signal,
      };
      const steps = new StepLines(progress, 'creating');
      const wait = values['no-wait'] ? { wait: false } : { waitTimeoutSeconds: waitTimeout(values) };
      const instance = await client()
        .create({ ...create, ...wait, onProgress: steps.show })
        .catch(async (error: unknown) => await destroyInterrupted(client(), { signal, name: steps.name, progress, error }));
      console.log(values.json ? JSON.stringify(instance, null, 2) : instance.name);
      return 0;
    },
  },
  extend: {
    operation: 'extend',
    usage: `usage: allocator extend <name> [--lifetime SECONDS]

Sets the instance to expire SECONDS from now (default: the allocator's default
lifetime), up to the allocator's maximum, and prints the new expiry.`,
    options: { lifetime: { type: 'string' } },
    run: async ({ client, values, positionals }) => {
      if (positionals.length !== 1) throw new UsageError('extend takes exactly one instance name');
      const text = values.lifetime as string | undefined;
      const lifetime = text === undefined ? undefined : Number(text);
      if (lifetime !== undefined && (!Number.isInteger(lifetime) || lifetime < 1))
        throw new UsageError('--lifetime takes a whole number of seconds');
      const instance = await client().extend(positionals[0] as string, lifetime);
      console.log(`${instance.name} expires ${instance.expiresAt ?? 'never'}`);
      return 0;
    },
  },
  destroy: {
    operation: 'destroy',
    usage: `usage: allocator destroy <name>... [--now] [--json]

Destroys each named instance with its disk. If the allocator has a restore
window, the disk is kept until it ends and 'allocator restore' can bring the
instance back; --now deletes the disk at once, and on an instance destroyed
already, deletes its kept disk for good.`,
    options: { now: { type: 'boolean' }, json: { type: 'boolean' } },
    run: async ({ client, values, positionals }) => {
      if (positionals.length === 0) throw new UsageError('destroy needs at least one instance name');
      let failed = 0;
      for (const name of positionals) {
        try {
          const result = await client().destroy(name, { now: values.now === true });
          if (values.json) console.log(JSON.stringify(result));
          else console.log(`destroyed ${name}${result.restorableUntil ? `; restorable until ${result.restorableUntil}` : ''}`);
        } catch (error) {
          failed += 1;
          console.error(`allocator: destroy ${name}: ${formatError(error)}`);
        }
      }
      return failed === 0 ? 0 : 1;
    },
  },
  ...RESTORE_COMMANDS,
  ...LIFECYCLE_COMMANDS,
  ...SHARING_COMMANDS,
  ...LOGS_COMMANDS,
  ...EVENTS_COMMANDS,
  ...WATCH_COMMANDS,
  list: {
    operation: 'list',
    usage: `usage: allocator list [-l] [--json] [--all] [--destroyed]

Lists your instances, newest first: names, or with -l one block each.
--all lists every instance (admins only).
--destroyed lists destroyed instances that can still be restored instead
(as 'allocator destroyed').`,
    options: {
      long: { type: 'boolean', short: 'l' },
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      destroyed: { type: 'boolean' },
    },
    run: async ({ client, values }) => {
      if (values.destroyed) return await printDestroyed(() => client().destroyedList({ all: values.all === true }), values);
      const instances = await client().list({ all: values.all === true });
      if (values.json) console.log(JSON.stringify(instances, null, 2));
      // Said on stderr, as kubectl says "No resources found": stdout stays a list a script can read.
      else if (instances.length === 0)
        console.error(values.all ? 'allocator: no instances' : "allocator: you have no instances; 'allocator create' makes one");
      else if (values.long) console.log(instances.map((instance) => formatInstanceBlock(instance)).join('\n\n'));
      else for (const instance of instances) console.log(instance.name);
      return 0;
    },
  },
  sweep: {
    operation: 'sweep',
    usage: `usage: allocator sweep [--dry-run] [--json]

Destroys expired instances and removes disks, Deployments and slots left
without their instance (admins only; the scheduled cleanup does the same).
--dry-run reports what it would remove and removes nothing.`,
    options: { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
    run: async ({ client, values }) => {
      const report = await client().sweep({ dryRun: values['dry-run'] === true });
      if (values.json) console.log(JSON.stringify(report, null, 2));
      else {
        const verb = report.dryRun ? 'would remove' : 'removed';
        console.log(
          `${verb}: ${report.expired.length} expired, ${report.orphanDisks.length} orphan disks, ${report.orphanDeployments.length} orphan Deployments, ${report.orphanSlots.length} orphan slots; ${report.failed.length} failed, ${report.deferred} left for the next sweep`,
        );
        // What the walk of the records did, in its own words (already "would ..." in a dry run).
        for (const line of report.reconciled ?? []) console.log(`  ${printable(line)}`);
      }
      return report.failed.length === 0 ? 0 : 1;
    },
  },
  ...LOGIN_COMMANDS,
  ...PARAMETERS_COMMANDS,
  run: {
    summary: 'Run a command against a fresh instance, then destroy it',
    usage: `usage: allocator run [--wait-timeout SECONDS] [--lease SECONDS] [--no-queue | --queue-timeout SECONDS]
                    [--param NAME=VALUE]... -- <command> [args...]

Creates an instance, waits until it is ready, runs the command with
ALLOCATOR_INSTANCE_NAME, ALLOCATOR_INSTANCE_MOUNT_NAME and, for each port of its
Services, ALLOCATOR_ENDPOINT_<SERVICE>_<PORT>_HOST and _PORT in its environment,
destroys the instance when the command ends (also on failure, SIGINT or
SIGTERM), and exits with the command's status.
The instance lives on a lease of --lease seconds (default ${DEFAULT_LEASE_SECONDS}), renewed every
third of that for as long as the command runs, and through the destroy: if run
itself is killed (SIGKILL, a CI job's time limit), the next cleanup sweep after
the lease runs out destroys the instance. A failed renewal is retried; if none
succeeds before the lease runs out, run says so, stops the command (SIGTERM,
then SIGKILL after ${STOP_GRACE_MS / 1000} s), tries to destroy the instance and exits with
${LEASE_LOST_STATUS}, whatever the command's status.
At a limit it waits in line for a slot, showing its place (--no-queue: fail
at once instead; --queue-timeout: give up after SECONDS in line).
${PARAM_USAGE}`,
    options: { ...waitTimeoutOption, lease: { type: 'string' }, ...queueOptions, ...paramOption },
    run: async ({ client, values, rest }) => {
      if (rest.length === 0) throw new UsageError('run needs a command after --');
      const progress = makeProgress();
      const parameters = paramsOf(values);
      return await runWithInstance(client(), rest, {
        timeoutSeconds: waitTimeout(values),
        leaseSeconds: seconds(values, 'lease', DEFAULT_LEASE_SECONDS),
        progress,
        queue: queueCreateOptions(values, { byDefault: true, progress }),
        ...(parameters ? { parameters } : {}),
      });
    },
  },
};

async function runWithInstance(
  client: AllocatorClient,
  command: string[],
  options: {
    timeoutSeconds: number;
    leaseSeconds: number;
    progress: Progress;
    queue: Pick<CreateOptions, 'queue' | 'queueTimeoutSeconds' | 'onQueued'>;
    parameters?: Record<string, string>;
  },
): Promise<number> {
  const interrupted = interruptSignal();
  const leaseLost = new AbortController();
  const signal = AbortSignal.any([interrupted, leaseLost.signal]);
  let heartbeat: Heartbeat | undefined;
  // The heartbeat goes on through the destroy, whose own refusals of a renewal say nothing new.
  let tearingDown = false;
  const handlers = (name: string): HeartbeatHandlers => ({
    onError: (error, leftMs) => {
      if (!tearingDown)
        console.error(`allocator: could not renew the lease of ${name} (${Math.round(leftMs / 1000)} s left): ${formatError(error)}`);
    },
    onLost: (error) => {
      if (tearingDown) return;
      console.error(
        `allocator: lost the lease of ${name}: no renewal succeeded for ${options.leaseSeconds} s${error === undefined ? '' : ` (the last: ${formatError(error)})`}, so the cleanup sweep may destroy it; stopping the command, exit status ${LEASE_LOST_STATUS}`,
      );
      leaseLost.abort();
    },
  });
  let instance: Instance;
  const steps = new StepLines(options.progress, 'creating');
  try {
    instance = await client
      .create({
        lifetimeSeconds: options.leaseSeconds,
        ...(options.parameters ? { parameters: options.parameters } : {}),
        ...options.queue,
        waitTimeoutSeconds: options.timeoutSeconds,
        signal,
        onProgress: (line) => {
          steps.show(line);
          // The lease is renewed from the moment the instance exists, not from when it is ready.
          if (line.step === 'deployment' && line.name !== undefined && heartbeat === undefined)
            heartbeat = client.keepAlive(line.name, options.leaseSeconds, handlers(line.name));
        },
      })
      .catch(async (error: unknown) => await destroyInterrupted(client, { signal, name: steps.name, progress: options.progress, error }));
  } catch (error) {
    heartbeat?.stop();
    if (leaseLost.signal.aborted) return LEASE_LOST_STATUS;
    throw error;
  }
  let status = 130;
  try {
    if (!interrupted.aborted && !leaseLost.signal.aborted)
      status = await runCommand(command, instance, { interrupted, leaseLost: leaseLost.signal });
  } finally {
    tearingDown = true;
    process.stderr.write(`destroying ${instance.name}\n`);
    await destroyAfterRun(client, instance.name, leaseLost.signal).finally(() => heartbeat?.stop());
  }
  return leaseLost.signal.aborted ? LEASE_LOST_STATUS : status;
}

/** Destroys run's instance; with the lease lost, the allocator is likely out of reach, and the sweep removes it instead. */
async function destroyAfterRun(client: AllocatorClient, name: string, leaseLost: AbortSignal): Promise<void> {
  try {
    await client.destroy(name);
  } catch (error) {
    if (!leaseLost.aborted) throw error;
    console.error(`allocator: could not destroy ${name}: ${formatError(error)}; the cleanup sweep will, its lease having run out`);
  }
}

/**
 * Runs the command with the instance in its environment and answers its
 * exit status. An interruption is passed on to it; a lost lease stops it:
 * SIGTERM, then SIGKILL after STOP_GRACE_MS.
 */
async function runCommand(
  command: string[],
  instance: Instance,
  signals: { interrupted: AbortSignal; leaseLost: AbortSignal },
): Promise<number> {
  const child = spawn(command[0] as string, command.slice(1), {
    stdio: 'inherit',
    env: {
      ...process.env,
      ALLOCATOR_INSTANCE_NAME: instance.name,
      ALLOCATOR_INSTANCE_MOUNT_NAME: instance.mountName,
      ...endpointEnvironment(instance),
    },
  });
  let killTimer: NodeJS.Timeout | undefined;
  const forward = (): void => void child.kill((signals.interrupted.reason as NodeJS.Signals | undefined) ?? 'SIGTERM');
  const stop = (): void => {
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  };
  signals.interrupted.addEventListener('abort', forward, { once: true });
  signals.leaseLost.addEventListener('abort', stop, { once: true });
  try {
    return await new Promise<number>((resolve) => {
      child.once('error', (error) => {
        console.error(`allocator: cannot run ${command[0]}: ${error.message}`);
        resolve(127);
      });
      child.once('exit', (code, childSignal) => resolve(code ?? 128 + signalNumber(childSignal)));
    });
  } finally {
    clearTimeout(killTimer);
    signals.interrupted.removeEventListener('abort', forward);
    signals.leaseLost.removeEventListener('abort', stop);
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return constants.signals[signal ?? 'SIGTERM'];
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const separator = argv.indexOf('--');
  const args = separator < 0 ? argv : argv.slice(0, separator);
  const rest = separator < 0 ? [] : argv.slice(separator + 1);
  const name = args.find((arg) => !arg.startsWith('-') && !isOptionValue(args, arg));
  const command = name === undefined ? undefined : COMMANDS[name];
  const wantsHelp = args.includes('--help') || args.includes('-h');
  if (command === undefined) {
    if (wantsHelp) {
      console.log(globalHelp());
      return 0;
    }
    console.error(name === undefined ? globalHelp() : `allocator: unknown command "${name}"\n\n${globalHelp()}`);
    return 2;
  }
  if (wantsHelp) {
    console.log(command.usage);
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({
      args: args.filter((arg) => arg !== name),
      options: { ...command.options, allocator: { type: 'string' }, token: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    const allocator = (values.allocator as string | undefined) ?? env.ALLOCATOR;
    const token = (values.token as string | undefined) ?? env.ALLOCATOR_TOKEN;
    let client: AllocatorClient | undefined;
    const getClient = (): AllocatorClient => {
      if (!allocator) throw new UsageError('no allocator named: pass --allocator URL or set ALLOCATOR');
      try {
        return (client ??= new AllocatorClient({ allocator, ...(token ? { auth: token } : {}) }));
      } catch (error) {
        throw new UsageError((error as Error).message, { cause: error });
      }
    };
    return await command.run({
      client: getClient,
      allocator,
      values: values as OptionValues,
      positionals,
      rest,
    });
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`allocator: ${(error as Error).message}\n\n${command.usage}`);
      return 2;
    }
    console.error(`allocator: ${name} failed: ${formatError(error)}`);
    return 1;
  }
}

/** Whether `arg` is the value of a preceding --allocator or --token. */
function isOptionValue(args: string[], arg: string): boolean {
  const index = args.indexOf(arg);
  return (
    index > 0 &&
    ['--allocator', '--token', '--wait-timeout', '--lifetime', '--lease', '--queue-timeout', '--param'].includes(args[index - 1] as string)
  );
}

/**
 * A create or run stopped before its answer (SIGINT, SIGTERM, a lost lease):
 * the allocator goes on without its caller, so the instance the progress
 * named, if any, is destroyed here. Throws `error` on.
 */
async function destroyInterrupted(
  client: AllocatorClient,
  request: { signal: AbortSignal; name: string | undefined; progress: Progress; error: unknown },
): Promise<never> {
  if (request.signal.aborted && request.name !== undefined) {
    request.progress.done(`${request.name}: destroying it`);
    await client.destroy(request.name).catch(() => undefined);
  }
  throw request.error;
}
