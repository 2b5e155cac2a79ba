import { UsageError, waitTimeout, waitTimeoutOption, type Command } from './command.ts';
import { makeProgress, StepLines } from './progress.ts';

function oneName(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new UsageError(`${command} takes exactly one instance name`);
  return positionals[0] as string;
}

/** Resume, restart and reset: the allocator waits until the instance is ready, and the CLI shows each step as it streams them. */
function waitingCommand(operation: 'resume' | 'restart' | 'reset', usage: string): Command {
  return {
    operation,
    usage,
    options: { 'no-wait': { type: 'boolean' }, json: { type: 'boolean' }, ...waitTimeoutOption },
    run: async ({ client, values, positionals }) => {
      const name = oneName(positionals, operation);
      const wait = values['no-wait'] ? { wait: false } : { waitTimeoutSeconds: waitTimeout(values) };
      const progress = makeProgress();
      progress.update(`${name}: ${{ reset: 'resetting (the old disk goes first)', restart: 'restarting', resume: 'resuming' }[operation]}`);
      const instance = await client()[operation](name, { ...wait, onProgress: new StepLines(progress, name).show });
      if (values['no-wait']) progress.done(`${name}: ${instance.state}`);
      console.log(values.json ? JSON.stringify(instance, null, 2) : instance.name);
      return 0;
    },
  };
}

export const LIFECYCLE_COMMANDS: Record<string, Command> = {
  suspend: {
    operation: 'suspend',
    usage: `usage: allocator suspend <name> [--json]

Scales the instance to 0 and keeps its disk, name and mount name; it still
counts toward your limit. 'allocator resume' brings it back.`,
    options: { json: { type: 'boolean' } },
    run: async ({ client, values, positionals }) => {
      const instance = await client().suspend(oneName(positionals, 'suspend'));
      console.log(values.json ? JSON.stringify(instance, null, 2) : `${instance.name}: ${instance.state}`);
      return 0;
    },
  },
  resume: waitingCommand(
    'resume',
    `usage: allocator resume <name> [--no-wait] [--json] [--wait-timeout SECONDS]

Scales a suspended instance back and waits until it is ready (default 240 s),
showing its state and anything that keeps it from starting.`,
  ),
  restart: waitingCommand(
    'restart',
    `usage: allocator restart <name> [--no-wait] [--json] [--wait-timeout SECONDS]

Restarts the instance's pods on the same disk, as 'kubectl rollout restart'
would, and waits until it is ready again. Unlike reset, the data stays.`,
  ),
  reset: waitingCommand(
    'reset',
    `usage: allocator reset <name> [--no-wait] [--json] [--wait-timeout SECONDS]

Wipes the instance's disk and starts it again with a fresh one. Its name,
mount name, owner, access list and expiry stay as they are.`,
  ),
};
