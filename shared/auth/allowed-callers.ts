/**
 * Who may use the allocator at all: exact emails, `*@domain` patterns, or `*`
 * for any verified Google identity. Admins always may. An empty list allows
 * anyone, for deployments where Cloud Run's IAM check already restricts callers.
 */
export function isAllowedCaller(email: string, patterns: readonly string[], admins: readonly string[]): boolean {
  if (patterns.length === 0 || admins.includes(email)) return true;
  return patterns.some((pattern) => pattern === '*' || pattern === email || (pattern.startsWith('*@') && email.endsWith(pattern.slice(1))));
}

/** Whether each entry is an email, `*@domain` or `*`. */
export function isCallerPattern(pattern: string): boolean {
  return pattern === '*' || /^(\*|[^@\s*]+)@[^@\s*]+\.[^@\s*]+$/.test(pattern);
}
