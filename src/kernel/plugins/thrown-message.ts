/**
 * The message of anything a plugin may throw or reject with: an Error's message, a string as is,
 * anything else as JSON (or its type), so a report never reads `undefined`.
 */
export function thrownMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err === '' ? '(empty string thrown)' : err;
  if (err === undefined || err === null) return `${String(err)} thrown`;
  if (typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') return (err as { message: string }).message;
  try {
    return `${typeof err} thrown: ${JSON.stringify(err)}`;
  } catch {
    return `${typeof err} thrown`;
  }
}
