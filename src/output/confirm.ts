import { usageError } from './errors.js';

/**
 * Asks a yes/no question on the terminal before something is deleted: true for "y" or "yes". Off a terminal there is
 * no one to ask: refused (exit 2) with `refusal`, and the hint to pass --yes.
 */
export async function confirmDeletion(question: string, refusal: string, hint = 'Pass --yes when running non-interactively.'): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) throw usageError(refusal, hint);
  const { default: readline } = await import('node:readline/promises'); // only when asking: every command loads this module
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`${question} [y/N] `);
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}
