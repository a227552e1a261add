/**
 * At most `n` calls of the returned function's tasks run at once; the others wait their turn in call order (mapLimit's
 * counterpart for tasks that come one by one, e.g. sync's uploads, started as each artifact is read and hashed).
 */
export function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
