/**
 * The functions' environment on the local stack: its own settings, with the
 * user's `ALLOCATOR_*` variables winning, but for `ALLOCATOR_AUDIENCES`, which
 * adds to the stack's own: the tokens its printed instructions mint carry the
 * stack's URL, and must stay good when the user accepts gcloud's too.
 */
export function localFunctionEnv(stack: Readonly<Record<string, string>>, userEnv: NodeJS.ProcessEnv): Record<string, string> {
  const user = Object.fromEntries(
    Object.entries(userEnv).filter((entry): entry is [string, string] => entry[0].startsWith('ALLOCATOR_') && entry[1] !== undefined),
  );
  const audiences = [stack.ALLOCATOR_AUDIENCES, user.ALLOCATOR_AUDIENCES].flatMap((list) => list?.split(',') ?? []);
  const accepted = [...new Set(audiences.map((audience) => audience.trim()).filter((audience) => audience !== ''))];
  return { ...stack, ...user, ...(accepted.length > 0 ? { ALLOCATOR_AUDIENCES: accepted.join(',') } : {}) };
}
