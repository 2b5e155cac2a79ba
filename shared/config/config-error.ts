/** A configuration problem found at cold start; the message names the setting and the fix. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
