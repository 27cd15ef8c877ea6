/** Thrown for operator errors: printed as one line on stderr (exit 1), no stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
}
