import { describeRule, type ParameterDeclaration } from '../shared/api/parameters.ts';
import { UsageError, type Command, type OptionValues } from './command.ts';

/** `--param name=value`, repeatable: on create and run. */
export const paramOption = { param: { type: 'string', multiple: true } } as const;

export const PARAM_USAGE = `--param NAME=VALUE sets one of the allocator's parameters (repeat it for more;
'allocator parameters' lists them); each one not set gets its default.`;

/** The parameters `--param` set, by name; undefined when none was given. */
export function paramsOf(values: OptionValues): Record<string, string> | undefined {
  const given = values.param;
  if (given === undefined) return undefined;
  const parameters: Record<string, string> = {};
  for (const entry of Array.isArray(given) ? given : [String(given)]) {
    const equals = entry.indexOf('=');
    if (equals < 1) throw new UsageError(`--param takes NAME=VALUE (got "${entry}")`);
    const name = entry.slice(0, equals);
    if (Object.hasOwn(parameters, name)) throw new UsageError(`--param ${name} is given twice`);
    parameters[name] = entry.slice(equals + 1);
  }
  return parameters;
}

/** One readable block per parameter: its name, default and rule, then its description. */
export function formatParameters(declarations: readonly ParameterDeclaration[]): string {
  if (declarations.length === 0) return 'this allocator takes no parameters';
  return declarations
    .map((declaration) =>
      [
        `${declaration.name} (default ${JSON.stringify(declaration.default)})`,
        `  ${describeRule(declaration)}`,
        ...(declaration.description ? [`  ${declaration.description.replace(/\n/g, ' ')}`] : []),
      ].join('\n'),
    )
    .join('\n\n');
}

export const PARAMETERS_COMMANDS: Record<string, Command> = {
  parameters: {
    summary: 'Show the parameters create takes (--param NAME=VALUE)',
    usage: `usage: allocator parameters [--json]

Shows the parameters this allocator's create takes, as its published API
description (/openapi.json) declares them: each one's name, default, rule and
description; --json prints them as a list of objects. Needs no sign-in.`,
    options: { json: { type: 'boolean' } },
    run: async ({ client, values }) => {
      const declarations = await client().parameters();
      console.log(values.json ? JSON.stringify(declarations, null, 2) : formatParameters(declarations));
      return 0;
    },
  },
};
