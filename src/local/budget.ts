/**
 * A byte budget shared by every thread of `mme local` (the cache on the main thread, extractions and loads on the
 * loading threads): one counter in a SharedArrayBuffer, changed with atomic compare-and-swap, so that concurrent
 * extractions and loads draw on ONE budget (never each on the whole of it) and a reservation is made before the bytes
 * are written or allocated. Counted in 4 KiB blocks (what a file takes on disk), which keeps the counter an int32 up
 * to 8 TiB.
 */

export const BLOCK = 4096;
const MAX_BLOCKS = 2 ** 31 - 1;
/** Loading threads a budget can track. */
export const MAX_THREADS = 64;

/** A reservation did not fit: `permanent` when it could never fit (more than the whole budget). */
export class BudgetExceeded extends Error {
  constructor(
    readonly budget: 'disk' | 'memory',
    readonly neededBytes: number,
    readonly permanent: boolean,
    message: string,
  ) {
    super(message);
    this.name = 'BudgetExceeded';
  }
}

/**
 * Cell 0 is the total; cell 1 + i is what loading thread i holds right now, so that when the thread is stopped in the
 * middle of a load (terminated: it cannot give anything back) the main thread gives back what it held.
 */
export class SharedBudget {
  private readonly cells: Int32Array;
  readonly limitBlocks: number;

  /**
   * @param buffer the counters of another thread's budget (shared), or none for a new one with room for `threads`
   * @param slot the loading thread this instance reserves for (its reservations are also counted in its own cell)
   */
  constructor(
    readonly name: 'disk' | 'memory',
    readonly limitBytes: number,
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4 * (1 + MAX_THREADS)),
    private readonly slot = -1,
  ) {
    this.cells = new Int32Array(buffer);
    this.limitBlocks = Math.min(MAX_BLOCKS, Math.floor(limitBytes / BLOCK));
  }

  /** The same budget, for loading thread `slot`. */
  forThread(slot: number): SharedBudget {
    return new SharedBudget(this.name, this.limitBytes, this.buffer, slot);
  }

  /** Loading thread `slot` is gone: what it held is free again. */
  releaseThread(slot: number): void {
    const held = Atomics.exchange(this.cells, 1 + slot, 0);
    if (held) Atomics.sub(this.cells, 0, held);
  }

  /** Bytes reserved by loading thread `slot` now belong to the main thread (a folder it extracted). */
  takeFromThread(slot: number, bytes: number): void {
    if (bytes > 0) Atomics.sub(this.cells, 1 + slot, SharedBudget.blocks(bytes));
  }

  /** Blocks needed for `bytes` (rounded up). */
  static blocks(bytes: number): number {
    return Math.ceil(bytes / BLOCK);
  }

  /** Bytes reserved right now, by every thread. */
  usedBytes(): number {
    return Atomics.load(this.cells, 0) * BLOCK;
  }

  /** Reserves `bytes` (rounded up to blocks) if they fit; returns the bytes reserved, or -1 when they do not fit. */
  tryReserve(bytes: number): number {
    const n = SharedBudget.blocks(bytes);
    if (n === 0) return 0;
    for (;;) {
      const used = Atomics.load(this.cells, 0);
      if (used + n > this.limitBlocks) return -1;
      if (Atomics.compareExchange(this.cells, 0, used, used + n) === used) {
        if (this.slot >= 0) Atomics.add(this.cells, 1 + this.slot, n);
        return n * BLOCK;
      }
    }
  }

  /** Reserves or throws BudgetExceeded (`what` names the thing, for the message). */
  reserve(bytes: number, what: string): number {
    const got = this.tryReserve(bytes);
    if (got >= 0) return got;
    const permanent = SharedBudget.blocks(bytes) > this.limitBlocks;
    throw new BudgetExceeded(
      this.name,
      bytes,
      permanent,
      permanent
        ? `${what} needs ${bytes} bytes, more than the whole ${this.name} budget (${this.limitBytes} bytes)`
        : `${what} needs ${bytes} bytes; the ${this.name} budget (${this.limitBytes} bytes) has ${Math.max(0, this.limitBlocks * BLOCK - this.usedBytes())} left`,
    );
  }

  /** Gives back bytes returned by reserve/tryReserve. */
  release(bytes: number): void {
    if (bytes <= 0) return;
    const n = SharedBudget.blocks(bytes);
    if (this.slot >= 0) Atomics.sub(this.cells, 1 + this.slot, n);
    Atomics.sub(this.cells, 0, n);
  }

  /** Bytes that could still be reserved. */
  freeBytes(): number {
    return Math.max(0, this.limitBlocks - Atomics.load(this.cells, 0)) * BLOCK;
  }
}
