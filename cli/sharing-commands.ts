import { UsageError, type Command } from './command.ts';
import type { Instance } from '../client/allocator-client.ts';
import { printable, printableJson } from './format.ts';

function shared(instance: Instance): string {
  const collaborators = instance.collaborators ?? [];
  return printable(
    `${instance.name}: owned by ${instance.owner}, shared with ${collaborators.length === 0 ? 'nobody' : collaborators.join(', ')}`,
  );
}

const RESTARTS = `The instance's template is rendered again with the new access list, so
a running instance restarts its pod; its disk and everything on it stay.`;

/** One instance name, then one or more emails. */
function nameAndEmails(positionals: string[], command: string): [string, string[]] {
  const [name, ...emails] = positionals;
  if (name === undefined || emails.length === 0) throw new UsageError(`${command} takes an instance name and at least one email`);
  return [name, emails];
}

export const SHARING_COMMANDS: Record<string, Command> = {
  share: {
    operation: 'share',
    usage: `usage: allocator share <name> <email>... [--json]

Shares your instance with each email: they see it in their own list, marked
as shared with them, and may extend, suspend and resume it; only you (or an
admin) may destroy, reset, share or transfer it. Each must be an allowed
caller of the allocator.
${RESTARTS}`,
    options: { json: { type: 'boolean' } },
    run: async ({ client, values, positionals }) => {
      const instance = await client().share(...nameAndEmails(positionals, 'share'));
      console.log(values.json ? printableJson(instance) : shared(instance));
      return 0;
    },
  },
  unshare: {
    operation: 'unshare',
    usage: `usage: allocator unshare <name> <email>... [--json]

Stops sharing your instance with each email (one it is not shared with is no
change).
${RESTARTS}`,
    options: { json: { type: 'boolean' } },
    run: async ({ client, values, positionals }) => {
      const instance = await client().unshare(...nameAndEmails(positionals, 'unshare'));
      console.log(values.json ? printableJson(instance) : shared(instance));
      return 0;
    },
  },
  transfer: {
    operation: 'transfer',
    usage: `usage: allocator transfer <name> <email> [--json]

Gives your instance to <email>, who must be an allowed caller: it counts
toward their limit from now on (a 429 if they are at it, and nothing changes)
and no longer toward yours. You stay recorded as its creator.
${RESTARTS}`,
    options: { json: { type: 'boolean' } },
    run: async ({ client, values, positionals }) => {
      if (positionals.length !== 2) throw new UsageError('transfer takes an instance name and one email');
      const instance = await client().transfer(positionals[0] as string, positionals[1] as string);
      console.log(values.json ? printableJson(instance) : printable(`${instance.name}: owned by ${instance.owner}`));
      return 0;
    },
  },
};
