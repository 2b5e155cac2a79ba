import { isAccountEntry, SUBJECT_PREFIX } from './allowed-callers.ts';

/**
 * Whether an email, known before its account ever calls, may be given an
 * instance (shared or transferred): an admin's, one the allowed callers name,
 * or one of an allowed `*@domain`; anyone when the list is empty. Only the
 * email is known here, so `sub:<id>` entries name nobody; the token's `hd`
 * and `sub` are checked when the account calls, as for every caller.
 */
export function isAllowedEmail(
  email: string,
  policy: { readonly allowedCallers: readonly string[]; readonly admins: readonly string[] },
): boolean {
  if (!isAccountEntry(email) || email.startsWith(SUBJECT_PREFIX)) return false;
  if (policy.allowedCallers.length === 0 || policy.admins.includes(email)) return true;
  return policy.allowedCallers.some((pattern) => (pattern.startsWith('*@') ? email.endsWith(pattern.slice(1)) : pattern === email));
}
