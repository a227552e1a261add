/** What `mme plan` shows: the report for people, CSV for spreadsheets, and the chart as text or SVG. */
import { formatBytes, renderTable } from '../output/format.js';
import type { CandidateResult, PlanResult } from './plan.js';

const money = (v: number) => `$${Math.round(v).toLocaleString('en-US')}`;
const pct = (v: number) => `${(v * 100).toFixed(v >= 0.99 && v < 1 ? 2 : 1)}%`;
const ms = (v: number) => (v === 0 ? '0' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const perHour = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const label = (c: { type: string; count: number }) => `${c.count} × ${c.type}`;

export const CSV_COLUMNS = [
  'type',
  'count',
  'vcpus',
  'memoryBytes',
  'usableBytes',
  'pricePerHour',
  'hitRatio',
  'coldLoads',
  'coldLoadsPerHour',
  'downloads',
  'unloads',
  'unloadsPerHour',
  'failed',
  'spilled',
  'waitP50Ms',
  'waitP99Ms',
  'waitMeanMs',
  'criticalWaitP99Ms',
  'utilisation',
  'maxLoadedModels',
  'monthlyCost',
  'meetsTargets',
] as const satisfies readonly (keyof CandidateResult)[];

/** One row per candidate, with a header. */
export function renderCsv(result: PlanResult): string {
  const cell = (v: unknown) => (v === null ? '' : typeof v === 'number' ? String(Number(v.toPrecision(10))) : String(v));
  return [CSV_COLUMNS.join(','), ...result.candidates.map((c) => CSV_COLUMNS.map((k) => cell(c[k])).join(','))].join('\n') + '\n';
}

export function renderReport(r: PlanResult, tty: boolean): string {
  const lines: string[] = [];
  const t = r.traffic;
  lines.push(
    `${r.models.count} models, ${formatBytes(r.models.totalBytes)} in memory${r.models.copies > 1 ? ` (${r.models.copies} copies each)` : ''} (${r.models.sizes}, ${r.models.from}); ` +
      `${t.requests.toLocaleString('en-US')} requests over ${hoursText(t.durationMs)} (${Math.round(t.requestsPerMinute).toLocaleString('en-US')}/min, ${t.source} ${t.from}, seed ${t.seed})`,
  );
  const top = r.targets.p99Models;
  const whose = top ? ` for the ${top.length} busiest models (${top.length > 6 ? `${top.slice(0, 5).join(', ')}, …` : top.join(', ')})` : '';
  lines.push(
    `targets: hit ratio ≥ ${pct(r.targets.hitRatio)}, added wait p99${whose} ≤ ${r.targets.waitP99Ms} ms; prices: ${r.assumptions.priceSource.join('; ')}`,
  );
  lines.push('');
  lines.push(
    renderTable(
      [
        'candidate',
        'memory',
        'hit ratio',
        'cold loads/h',
        'unloads/h',
        'wait p50 ms',
        'wait p99 ms',
        ...(top ? [`top ${top.length} p99 ms`] : []),
        'busy',
        '$/month',
        'meets',
      ],
      r.candidates.map((c) => [
        label(c),
        formatBytes(c.usableBytes),
        c.failed ? `${pct(c.hitRatio)} (${c.failed} failed)` : pct(c.hitRatio),
        perHour(c.coldLoadsPerHour),
        perHour(c.unloadsPerHour),
        ms(c.waitP50Ms),
        ms(c.waitP99Ms),
        ...(top ? [c.criticalWaitP99Ms === null ? '-' : ms(c.criticalWaitP99Ms)] : []),
        `${(c.utilisation * 100).toFixed(1)}%`,
        money(c.monthlyCost),
        c.meetsTargets ? 'yes' : 'no',
      ]),
      true,
    ),
  );
  lines.push('', ...renderChart(r, tty ? 64 : 56), '');
  const rec = r.recommendation;
  const s = rec.shapes;
  lines.push(`recommendation: ${rec.reason}`);
  lines.push(`  all dedicated: ${s.dedicated.models} endpoints, ${s.dedicated.instances} × ${s.dedicated.type}, ${money(s.dedicated.monthlyCost)}/month`);
  lines.push(`  one MME:       ${s.mme ? `${label(s.mme)}, ${money(s.mme.monthlyCost)}/month` : 'no candidate meets the targets'}`);
  if (s.hybrid) {
    const h = s.hybrid;
    lines.push(
      `  hybrid:        top ${h.k} dedicated (${h.dedicatedModels.join(', ')}: ${money(h.dedicatedCost)}) + ${label(h.mme)} for the rest (${money(h.mme.monthlyCost)}, ` +
        `${pct(h.mme.hitRatio)} hits) = ${money(h.monthlyCost)}/month`,
    );
  } else lines.push('  hybrid:        no split meets the targets');
  if (rec.best === 'dedicated') lines.push('  cheapest shape meeting the targets: all dedicated (no MME shape meets them)');
  else {
    const bestName = rec.best === 'mme' ? 'one MME' : `hybrid (top ${s.hybrid?.k} dedicated)`;
    lines.push(`  cheapest shape meeting the targets: ${bestName}, saving ${money(rec.savingsVsDedicated)}/month against all dedicated`);
  }
  // The table pads its last column: no trailing blanks in what people copy.
  return lines.join('\n').replace(/[ \t]+$/gm, '');
}

function hoursText(msv: number): string {
  const h = msv / 3_600_000;
  return h >= 1 ? `${Number(h.toFixed(2))} h` : msv >= 60_000 ? `${Number((msv / 60_000).toFixed(1))} min` : `${Number((msv / 1000).toFixed(2))} s`;
}

/**
 * Hit ratio against usable memory per instance, memory on a log scale: the curve (`·`, one instance, exact LRU,
 * budgets from the largest model to the whole fleet) and each single-instance candidate (a letter, keyed below).
 */
export function renderChart(r: PlanResult, width = 60): string[] {
  const height = 10;
  const pts = r.memoryCurve;
  const singles = r.candidates.filter((c) => c.count === 1);
  const xs = [...pts.map((p) => p.memoryBytes), ...singles.map((c) => c.usableBytes)].filter((v) => v > 0);
  if (!xs.length) return [];
  const lo = Math.log(Math.min(...xs));
  const hi = Math.log(Math.max(...xs));
  const ys = [...pts.map((p) => p.hitRatio), ...singles.map((c) => c.hitRatio)];
  const yMin = Math.max(0, Math.floor(Math.min(...ys) * 10) / 10 - (Math.min(...ys) >= 0.99 ? 0.1 : 0));
  const grid = Array.from({ length: height + 1 }, () => Array.from({ length: width }, () => ' '));
  const col = (x: number) => (hi === lo ? 0 : Math.round(((Math.log(x) - lo) / (hi - lo)) * (width - 1)));
  const row = (y: number) => Math.round(((1 - y) / Math.max(1e-9, 1 - yMin)) * height);
  for (const p of pts) grid[row(p.hitRatio)][col(p.memoryBytes)] = '·';
  const key: string[] = [];
  singles.forEach((c, i) => {
    if (c.usableBytes <= 0) return;
    const ch = String.fromCharCode(65 + (i % 26));
    grid[row(c.hitRatio)][col(c.usableBytes)] = ch;
    key.push(`${ch} ${c.type} ${money(c.monthlyCost)}`);
  });
  const out = [`hit ratio against memory per instance (log scale); · one instance at each budget, letters the candidates`];
  grid.forEach((line, i) => {
    const y = 1 - (i / height) * (1 - yMin);
    out.push(`${i % 5 === 0 ? pct(y).padStart(6) : '      '} |${line.join('').replace(/\s+$/, '')}`);
  });
  out.push(`       +${'-'.repeat(width)}`);
  const left = formatBytes(Math.round(Math.exp(lo)));
  const right = formatBytes(Math.round(Math.exp(hi)));
  out.push(`        ${left}${' '.repeat(Math.max(1, width - left.length - right.length))}${right}`);
  if (r.workingSetBytes !== null)
    out.push(`        one instance reaches ${pct(r.targets.hitRatio)} hits from ${formatBytes(r.workingSetBytes)} of usable memory`);
  else
    out.push(
      `        one instance holding the whole fleet (${formatBytes(r.models.totalBytes)}) still misses ${pct(r.targets.hitRatio)}: the misses are first loads`,
    );
  for (let i = 0; i < key.length; i += 3) out.push(`        ${key.slice(i, i + 3).join('   ')}`);
  return out;
}

/** The same chart as an SVG file (for a wiki page): the curve, the candidates, their cost in the labels. */
export function renderSvg(r: PlanResult): string {
  const W = 760;
  const H = 420;
  const m = { l: 70, r: 30, t: 40, b: 60 };
  const pts = r.memoryCurve;
  const singles = r.candidates.filter((c) => c.count === 1 && c.usableBytes > 0);
  const xs = [...pts.map((p) => p.memoryBytes), ...singles.map((c) => c.usableBytes)];
  const lo = Math.log(Math.min(...xs));
  const hi = Math.log(Math.max(...xs)) + (xs.length === 1 ? 1 : 0);
  const ys = [...pts.map((p) => p.hitRatio), ...singles.map((c) => c.hitRatio)];
  const yMin = Math.max(0, Math.floor(Math.min(...ys) * 10) / 10 - (Math.min(...ys) >= 0.99 ? 0.1 : 0));
  const X = (v: number) => m.l + ((Math.log(v) - lo) / Math.max(1e-9, hi - lo)) * (W - m.l - m.r);
  const Y = (v: number) => m.t + ((1 - v) / Math.max(1e-9, 1 - yMin)) * (H - m.t - m.b);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(
    `<text x="${m.l}" y="22" font-size="14" font-weight="bold">${esc(`mme plan: hit ratio against memory per instance (${r.models.count} models, ${r.traffic.requests.toLocaleString('en-US')} requests)`)}</text>`,
  );
  for (let i = 0; i <= 5; i++) {
    const v = yMin + ((1 - yMin) * i) / 5;
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 8}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end">${pct(v)}</text>`);
  }
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="black"/>`);
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="black"/>`);
  for (const v of [Math.exp(lo), Math.exp((lo + hi) / 2), Math.exp(hi)]) {
    parts.push(`<text x="${X(v).toFixed(1)}" y="${H - m.b + 18}" text-anchor="middle">${esc(formatBytes(Math.round(v)))}</text>`);
  }
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 14}" text-anchor="middle">usable memory per instance (log scale)</text>`);
  const target = r.targets.hitRatio;
  if (target >= yMin)
    parts.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${Y(target).toFixed(1)}" y2="${Y(target).toFixed(1)}" stroke="#c00" stroke-dasharray="4 4"/><text x="${W - m.r}" y="${(Y(target) - 4).toFixed(1)}" text-anchor="end" fill="#c00">target ${pct(target)}</text>`,
    );
  parts.push(
    `<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${pts.map((p) => `${X(p.memoryBytes).toFixed(1)},${Y(p.hitRatio).toFixed(1)}`).join(' ')}"/>`,
  );
  singles.forEach((c, i) => {
    const x = X(c.usableBytes);
    const y = Y(c.hitRatio);
    parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="5" fill="${c.meetsTargets ? '#2ca02c' : '#d62728'}"/>`);
    parts.push(`<text x="${(x + 7).toFixed(1)}" y="${(y + 14 + (i % 3) * 12).toFixed(1)}">${esc(`${c.type} ${money(c.monthlyCost)}/mo`)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
