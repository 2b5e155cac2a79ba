import { ConfigError } from './config-error.ts';

/**
 * Parses a file of `KEY=VALUE` lines (the same keys as the environment):
 * blank lines and `#` comments are skipped, a value may be wrapped in single
 * or double quotes, and nothing is expanded.
 */
export function parseEnvFile(text: string, fileName: string): Record<string, string> {
  const values: Record<string, string> = {};
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new ConfigError(`${fileName}:${index + 1}: expected KEY=VALUE, got "${line}"`);
    const [, key = '', rawValue = ''] = match;
    const quoted = /^(["'])(.*)\1$/.exec(rawValue);
    values[key] = quoted ? (quoted[2] ?? '') : rawValue;
  });
  return values;
}
