// A TCP proxy that sits between mme and moto and misbehaves on request: it stalls, resets, drops a connection after
// N bytes or slows answers down, and tells the test (by events, never by timing) when it has done so.
import { EventEmitter, once } from 'node:events';
import net from 'node:net';

export type FaultMode =
  /** Forward everything. */
  | { kind: 'pass' }
  /** Accept and read, never answer. */
  | { kind: 'stall' }
  /** Reset every new connection as soon as it is accepted. */
  | { kind: 'reset' }
  /**
   * Forward until `bytes` bytes have gone from client to server (all connections together, counted from when the
   * mode was set), then reset every open connection; new connections are then reset too, or forwarded (`then`).
   */
  | { kind: 'drop-after'; bytes: number; then?: 'pass' | 'reset' }
  /** Forward, but hold each server-to-client chunk for `delayMs` (the answer trickles in). */
  | { kind: 'slow'; delayMs: number }
  /**
   * Forward, except requests whose first line matches `match`: their bytes are held (not sent to the server) until
   * `release()`, and 'held' is emitted. `count` bounds how many requests are held (default: all).
   */
  | { kind: 'hold'; match: RegExp; count?: number };

export interface FaultProxy extends EventEmitter {
  url: string;
  setMode(mode: FaultMode): void;
  /** Sends the held requests on to the server, and forwards everything from now on. */
  release(): void;
  /** Waits for the next event of this name (e.g. 'held', 'reset'), resolving with its first argument. */
  next(event: 'held' | 'reset' | 'stalled' | 'connection'): Promise<unknown>;
  close(): Promise<void>;
}

const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.[01]\r\n/;

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  const events = new EventEmitter();
  let mode: FaultMode = { kind: 'pass' };
  let forwarded = 0;
  let holdsLeft = Infinity;
  const open = new Set<{ client: net.Socket; upstream?: net.Socket }>();
  const held: { upstream: net.Socket; chunks: Buffer[]; release(): void }[] = [];

  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    const at = mode;
    events.emit('connection');
    if (at.kind === 'reset') {
      client.resetAndDestroy();
      events.emit('reset', 'accept');
      return;
    }
    if (at.kind === 'stall') {
      client.resume(); // read and drop: the client's request goes nowhere and no answer ever comes
      events.emit('stalled');
      return;
    }
    const upstream = net.connect(Number(port), hostname);
    upstream.on('error', () => client.destroy());
    const conn = { client, upstream };
    open.add(conn);
    // Answers may still be queued (slow mode): the client is ended after them, not cut off.
    let queue = Promise.resolve();
    client.on('close', () => {
      open.delete(conn);
      upstream.destroy();
    });
    upstream.on('end', () => void queue.then(() => client.end()));
    upstream.on('close', () => open.delete(conn));

    let holding: { upstream: net.Socket; chunks: Buffer[]; release(): void } | undefined;
    client.on('data', (chunk: Buffer) => {
      if (holding) return void holding.chunks.push(chunk);
      const now = mode;
      if (now.kind === 'hold' && holdsLeft > 0) {
        const line = REQUEST_LINE.exec(chunk.subarray(0, 2048).toString('latin1'))?.[0];
        if (line && now.match.test(line)) {
          holdsLeft--;
          const h = {
            upstream,
            chunks: [chunk],
            release: () => {
              holding = undefined;
              for (const c of h.chunks) upstream.write(c);
            },
          };
          holding = h;
          held.push(h);
          events.emit('held', line.trim());
          return;
        }
      }
      upstream.write(chunk);
      if (now.kind === 'drop-after') {
        forwarded += chunk.length;
        if (forwarded >= now.bytes) {
          mode = { kind: now.then ?? 'reset' } as FaultMode;
          for (const c of [...open]) {
            c.client.resetAndDestroy();
            c.upstream?.destroy();
          }
          events.emit('reset', forwarded);
        }
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      const now = mode;
      if (now.kind === 'slow') {
        queue = queue.then(
          () =>
            new Promise<void>((resolve) =>
              setTimeout(() => {
                client.write(chunk);
                resolve();
              }, now.delayMs),
            ),
        );
      } else {
        queue = queue.then(() => void client.write(chunk));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address() as net.AddressInfo;

  return Object.assign(events, {
    url: `http://127.0.0.1:${addr.port}`,
    setMode(m: FaultMode) {
      mode = m;
      forwarded = 0;
      holdsLeft = m.kind === 'hold' ? (m.count ?? Infinity) : Infinity;
    },
    release() {
      mode = { kind: 'pass' } as FaultMode;
      for (const h of held.splice(0)) h.release();
    },
    next(event: string) {
      return once(events, event).then((args) => args[0]);
    },
    async close() {
      for (const c of open) {
        c.client.destroy();
        c.upstream?.destroy();
      }
      server.close();
    },
  }) as FaultProxy;
}
