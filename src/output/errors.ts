/** Exit codes are part of the interface: the README's table lists them. */
export const ExitCode = {
  ok: 0,
  failed: 1, // AWS, network or I/O failure
  usage: 2, // bad flags, input or config
  notFound: 3,
  threshold: 4, // `stats --fail-if` breached
  wouldOverwrite: 5,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error meant for the person at the keyboard: one line saying what is wrong, and a hint saying what to do.
 * Anything else that reaches the top is a bug or an outside failure, shown with a stack only under --debug.
 */
export class MmeError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.failed,
    readonly hint?: string,
    readonly code = codeName(exitCode),
  ) {
    super(message);
  }
}

export const usageError = (message: string, hint?: string) => new MmeError(message, ExitCode.usage, hint);
export const notFound = (message: string, hint?: string) => new MmeError(message, ExitCode.notFound, hint);

function codeName(exit: ExitCodeValue): string {
  for (const [name, value] of Object.entries(ExitCode)) if (value === exit) return name;
  return 'failed';
}
