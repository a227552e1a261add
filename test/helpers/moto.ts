import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';

/** A moto_server on a free 127.0.0.1 port, for the whole test file. */
export interface Moto {
  url: string;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** True when moto_server can be run here. Under CI=true its absence is a failure, not a skip. */
export function motoAvailable(): boolean {
  const found = spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0;
  if (!found && process.env.CI === 'true') throw new Error('moto_server is not installed, and CI=true requires it (pip install "moto[server]").');
  return found;
}

/** Skip reason for node:test when moto is missing (never under CI). */
export const skipWithoutMoto = motoAvailable() ? false : 'moto_server not installed';

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  // moto logs every request: to a file, not a pipe, so that a parent blocked in spawnSync (benchmarks) can never
  // leave the pipe full and moto stuck writing to it.
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mme-moto-')), 'moto.log');
  const logFd = fs.openSync(log, 'w');
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', logFd] });
  fs.closeSync(logFd);
  const stderr = () => fs.readFileSync(log, 'utf8').slice(-500);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000; // a hang guard only: moto starts in seconds, slower on a busy machine
  for (;;) {
    try {
      const res = await fetch(`${url}/moto-api/`);
      if (res.ok || res.status < 500) break;
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`moto_server did not start on ${url}: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async reset() {
      await fetch(`${url}/moto-api/reset`, { method: 'POST' });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
