/** Small formatters shared by every command's human output. */
// cli-table3 is CommonJS: esbuild bundles this require() as a module that runs on first use, so `mme --help` does
// not pay for it.

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

export function formatDate(d: Date): string {
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/** A borderless cli-table3 table on a terminal; tab-separated rows otherwise, so pipes get plain data. */
export function renderTable(head: string[], rows: (string | number)[][], tty: boolean): string {
  if (!tty) return rows.map((r) => r.join('\t')).join('\n');
  const Table = require('cli-table3') as typeof import('cli-table3');
  const table = new Table({
    head,
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  table.push(...rows.map((r) => r.map(String)));
  return table.toString();
}
