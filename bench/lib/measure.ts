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
  reference: number;
  referenceName: string;
  goal: number;
  unit?: string;
}

/** Prints one benchmark table: our time, the reference tool's, the ratio and whether it meets the goal. */
export function printTable(rows: Row[]): void {
  const lines = ['| benchmark | mme | reference | ratio | goal | met |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const ratio = r.ours / r.reference;
    const unit = r.unit ?? 'ms';
    lines.push(`| ${r.name} | ${r.ours.toFixed(1)} ${unit} | ${r.reference.toFixed(1)} ${unit} (${r.referenceName}) | ${ratio.toFixed(2)} | <= ${r.goal} | ${ratio <= r.goal ? 'yes' : 'NO'} |`);
  }
  console.log(lines.join('\n'));
}
