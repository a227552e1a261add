/**
 * Test-only phase markers, so tests can act at a known point of a command (Ctrl-C while hashing) by waiting on an
 * event instead of a timer. Off unless MME_TEST_PHASES is set: then `mme-test-phase: NAME` goes to stderr, and if
 * MME_TEST_HOLD names this phase the command waits there until it is interrupted.
 */
export async function testPhase(name: string, signal?: AbortSignal): Promise<void> {
  if (!process.env.MME_TEST_PHASES) return;
  process.stderr.write(`mme-test-phase: ${name}\n`);
  if (process.env.MME_TEST_HOLD !== name || !signal || signal.aborted) return;
  // Nothing else is pending while held: a ref'd timer keeps the process alive (else it would exit, and a signal sent
  // during that exit would kill it instead of being handled).
  const alive = setInterval(() => undefined, 1 << 30);
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  clearInterval(alive);
}
