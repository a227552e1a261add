/**
 * Test-only phase markers, so tests can act at a known point of a command (Ctrl-C while hashing) by waiting on an
 * event instead of a timer. Off unless MME_TEST_PHASES is set: then `mme-test-phase: NAME` goes to stderr, and if
 * MME_TEST_HOLD names this phase the command waits there until it is interrupted.
 */
export async function testPhase(name: string, signal?: AbortSignal): Promise<void> {
  if (!process.env.MME_TEST_PHASES) return;
  process.stderr.write(`mme-test-phase: ${name}\n`);
  if (process.env.MME_TEST_HOLD !== name || !signal || signal.aborted) return;
  // Signal handlers do not keep Node running: without a ref'd handle the process would end (exit 0) or die of the
  // very signal the test sends while it tears down.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  clearInterval(keepAlive);
}
