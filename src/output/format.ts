/** Small formatters shared by every command's human output. */
import { createRequire } from 'node:module';

// cli-table3 is CommonJS; required on first use so that `mme --help` does not pay for it.
const require = createRequire(import.meta.url);

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** Parses "2GiB", "512MB", "1.5G", "1048576" into bytes. */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$/i.exec(text);
  if (!m) return undefined;
  const power = ' kmgt'.indexOf(m[2].toLowerCase() || ' ');
  const base = m[3] || m[2] === '' ? 1024 : 1000;
  return Math.round(Number(m[1]) * base ** power);
}

export function formatDate(d: Date): string {
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** A borderless cli-table3 table on a terminal; tab-separated rows otherwise, so pipes get plain data. */
export function renderTable(head: string[], rows: (string | number)[][], tty: boolean): string {
  if (!tty) return rows.map((r) => r.join('\t')).join('\n');
  const Table = require('cli-table3') as typeof import('cli-table3');
  const table = new Table({
    head,
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '',
      'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  table.push(...rows.map((r) => r.map(String)));
  return table.toString();
}
