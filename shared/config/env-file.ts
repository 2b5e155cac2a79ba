import { parseEnv } from 'node:util';
import { ConfigError } from './config-error.ts';

const ASSIGNMENT = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=/;

/**
 * Reads a file of `KEY=VALUE` lines (the same keys as the environment) with
 * Node's own dotenv parser: `#` comments, quoted values, nothing expanded.
 * That parser skips lines it cannot read; this names the first one instead,
 * since a skipped setting would silently fall back to its default.
 */
export function parseEnvFile(text: string, fileName: string): Record<string, string> {
  let quote: string | undefined;
  text.split(/\r?\n/).forEach((line, index) => {
    if (quote !== undefined) {
      if (line.includes(quote)) quote = undefined; // the end of a multi-line quoted value
      return;
    }
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    if (!ASSIGNMENT.test(line)) throw new ConfigError(`${fileName}:${index + 1}: expected KEY=VALUE, got "${trimmed}"`);
    const opening = /=\s*(["'`])/.exec(line)?.[1];
    if (opening !== undefined && line.indexOf(opening, line.indexOf(opening) + 1) < 0) quote = opening;
  });
  return { ...parseEnv(text) } as Record<string, string>;
}
