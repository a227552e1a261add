import { MmeError, ExitCode } from './errors.js';

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  debug: boolean;
  color: boolean;
}

export interface Progress {
  update(text: string): void;
  stop(): void;
}

/**
 * Everything a command shows goes through here: data to stdout (one JSON document under --json),
 * messages to stderr, spinners only when stderr is a terminal.
 */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly debug: boolean;
  readonly color: boolean;
  readonly stdoutIsTTY = Boolean(process.stdout.isTTY);
  readonly stderrIsTTY = Boolean(process.stderr.isTTY);

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.quiet = options.quiet;
    this.debug = options.debug;
    this.color = options.color && colorAllowed(this.stderrIsTTY);
  }

  /** The command's result: JSON envelope for scripts, `human()` text for people. */
  result(data: unknown, human?: () => string | undefined): void {
    this.resultWritten = true;
    if (this.json) {
      process.stdout.write(successDocument(data));
      return;
    }
    const text = human?.();
    if (text) process.stdout.write(redactSecrets(text.endsWith('\n') ? text : text + '\n'));
  }

  /** Whether result() has printed the command's document (so an interruption after it adds no second one). */
  resultWritten = false;

  /** Raw bytes on stdout (invoke bodies, Prometheus text). */
  raw(bytes: Uint8Array | string): void {
    process.stdout.write(bytes);
  }

  info(message: string): void {
    if (!this.quiet) process.stderr.write(redactSecrets(message) + '\n');
  }

  warn(message: string): void {
    this.message('warning:', message, 33);
  }

  /** A labelled line on stderr (`breach: …`), the label in colour where colour is on; always one line. */
  message(label: string, text: string, ansi = 31): void {
    process.stderr.write(this.paint(label, ansi) + ' ' + oneLine(text) + '\n');
  }

  /** Reports a failure and returns the exit code it maps to. */
  error(err: unknown): number {
    const known = err instanceof MmeError;
    const exitCode = known ? err.exitCode : ExitCode.failed;
    const message = err instanceof Error ? err.message : String(err);
    if (this.json) process.stdout.write(errorDocument(err));
    const hint = known && err.hint ? ` ${err.hint}` : '';
    process.stderr.write(`${this.paint('mme:', 31)} ${oneLine(message + hint)}\n`);
    if (this.debug && err instanceof Error && err.stack) process.stderr.write(redactSecrets(err.stack) + '\n');
    return exitCode;
  }

  /** A spinner on a terminal, nothing otherwise. ora is imported only when it will be seen. */
  async progress(text: string): Promise<Progress> {
    // A terminal that reports no width (some `script` and CI pseudo-terminals) makes ora redraw forever.
    if (this.quiet || this.json || !process.stderr.columns || !colorAllowed(this.stderrIsTTY)) {
      return { update() {}, stop() {} };
    }
    const { default: ora } = await import('ora');
    const spinner = ora({ text, stream: process.stderr, color: 'cyan' }).start();
    return { update: (t) => (spinner.text = t), stop: () => spinner.stop() };
  }

  paint(text: string, ansi: number): string {
    return this.color ? `\u001b[${ansi}m${text}\u001b[0m` : text;
  }
}

/** Colour and spinners only for a person at a terminal: never under NO_COLOR, CI, TERM=dumb or off a TTY. */
function colorAllowed(tty: boolean): boolean {
  const env = process.env;
  return tty && !env.NO_COLOR && !env.CI && env.TERM !== 'dumb';
}

/**
 * The JSON document a successful command prints on stdout for scripts; `oneLine` for a process that goes on running
 * after it (`mme local --json`), so that a reader can take it line by line.
 */
export function successDocument(result: unknown, { oneLine = false } = {}): string {
  return redactSecrets(JSON.stringify({ status: 'success', result }, null, oneLine ? undefined : 2)) + '\n';
}

/** The JSON document a failed command prints on stdout for scripts. */
export function errorDocument(err: unknown): string {
  const known = err instanceof MmeError;
  const message = err instanceof Error ? err.message : String(err);
  const error = { code: known ? err.code : 'failed', message, hint: known ? err.hint : undefined, exitCode: known ? err.exitCode : ExitCode.failed };
  return redactSecrets(JSON.stringify({ status: 'error', error }, null, 2)) + '\n';
}

/**
 * A URL's user and password never reach a terminal or a log: `http://u:secret@host` prints as `http://***@host`.
 * Applied to everything Output writes except raw response bodies.
 */
export function redactSecrets(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"']*@/gi, '$1***@');
}

/** A message is one line: control characters (a newline in a file name) are shown escaped, and secrets redacted. */
export function oneLine(text: string): string {
  return redactSecrets(text).replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
