import { spawnSync } from 'node:child_process';

/** Median wall time in ms of `runs` runs of a command (after one warm-up run). */
export function timeCommand(cmd: string, args: string[], runs = 5, env: NodeJS.ProcessEnv = process.env): number {
  const once = () => {
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  once();
  const times = Array.from({ length: runs }, once).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export interface Row {
  name: string;
  ours: number;
  /** NaN when there is nothing to compare with (printed as "—"). */
  reference: number;
  referenceName: string;
  /** Bound on the ratio ours/reference (or on `ours` itself with goalOn: 'value'); omit for an informative row. */
  goal?: number;
  unit?: string;
  /** Throughput-like rows: the goal is a lower bound (>=) instead of an upper bound. */
  higherIsBetter?: boolean;
  /** 'value': the goal bounds our own number, in `unit` (e.g. p99 < 5 ms); default 'ratio'. */
  goalOn?: 'ratio' | 'value';
}

/** Prints one benchmark table: our time, the reference tool's, the ratio and whether it meets the goal. */
export function printTable(rows: Row[]): void {
  const lines = ['| benchmark | mme | reference | ratio | goal | met |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const ratio = r.ours / r.reference;
    const unit = r.unit ?? 'ms';
    const reference = Number.isNaN(r.reference) ? `— (${r.referenceName})` : `${r.reference.toFixed(1)} ${unit} (${r.referenceName})`;
    let goal = '—';
    let met = '—';
    if (r.goal !== undefined) {
      const measured = r.goalOn === 'value' ? r.ours : ratio;
      const ok = r.higherIsBetter ? measured >= r.goal : r.goalOn === 'value' ? measured < r.goal : measured <= r.goal;
      const bound = r.higherIsBetter ? '>=' : r.goalOn === 'value' ? '<' : '<=';
      goal = `${bound} ${r.goal}${r.goalOn === 'value' ? ` ${unit}` : r.higherIsBetter ? '×' : ''}`;
      met = ok ? 'yes' : 'NO';
    }
    lines.push(`| ${r.name} | ${r.ours.toFixed(1)} ${unit} | ${reference} | ${Number.isFinite(ratio) ? ratio.toFixed(2) : '—'} | ${goal} | ${met} |`);
  }
  console.log(lines.join('\n'));
}
