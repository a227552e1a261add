/**
 * The --fail-if language: `NAME OP NUMBER[UNIT]`, one condition per flag, breached when it holds.
 *
 *   NAME   a summary name (METRICS in catalog.ts): cache-hit, requests, load-wait-p99, unloads, cpu, ...
 *   OP     <  <=  >  >=  ==  !=
 *   UNIT   durations need one: us (or µs), ms, s        load-wait-p99>500ms, latency-avg>=0.2s
 *          cache-hit takes a ratio or a percentage        cache-hit<0.9, cache-hit<90%
 *          cpu, memory, disk are percentages (% optional)  memory>85, memory>85%
 *          counts and model counts take a plain number    unloads>100, errors-5xx>0
 * Spaces are allowed around the operator. Several --fail-if flags are all checked.
 */
import { usageError } from '../output/errors.js';
import { METRIC_BY_NAME, METRICS, type MetricSpec } from './catalog.js';
import type { FleetStats } from './model.js';

export type Op = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface Condition {
  /** As the user wrote it, for messages. */
  text: string;
  spec: MetricSpec;
  op: Op;
  /** In the stored unit of spec.kind (ms for durations, 0..1 for cache-hit, 0..100 for percentages). */
  threshold: number;
}

const SYNTAX = /^\s*([a-z0-9][a-z0-9-]*)\s*(<=|>=|==|!=|<|>)\s*([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)\s*(µs|us|ms|s|%)?\s*$/i;

const DURATION_FACTOR: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000 };

export function parseCondition(text: string): Condition {
  const where = `--fail-if '${text}'`;
  const m = SYNTAX.exec(text);
  if (!m) {
    const lead = /^\s*([a-z0-9][a-z0-9-]*)\s*(<=|>=|==|!=|<|>|=)?/i.exec(text);
    if (lead && !METRIC_BY_NAME.has(lead[1].toLowerCase())) throw unknownName(where, lead[1]);
    const hint = lead?.[2] === '=' ? 'Compare with == (or <, <=, >, >=, !=). ' : '';
    throw usageError(
      `${where} is not a condition.`,
      `${hint}Write NAME OP NUMBER[UNIT], e.g. 'cache-hit<0.9', 'load-wait-p99>500ms' or 'unloads>100' (OP is one of < <= > >= == !=).`,
    );
  }
  const [, rawName, op, num, rawUnit] = m;
  const name = rawName.toLowerCase();
  const spec = METRIC_BY_NAME.get(name);
  if (!spec) throw unknownName(where, rawName);
  const unit = rawUnit?.toLowerCase();
  const value = Number(num);
  let threshold: number;
  switch (spec.kind) {
    case 'duration':
      if (!unit || unit === '%') {
        throw usageError(
          `${where}: ${name} is a duration and needs a unit.`,
          `Add us, ms or s, e.g. '${name}${op}${num}ms' (CloudWatch reports microseconds; mme shows ms).`,
        );
      }
      threshold = value * DURATION_FACTOR[unit];
      break;
    case 'ratio':
      if (unit && unit !== '%') throw wrongUnit(where, name, unit, 'a ratio: write 0.9 or 90%');
      threshold = unit === '%' ? value / 100 : value;
      if (threshold > 1) throw usageError(`${where}: ${name} is a ratio between 0 and 1.`, `Write ${name}${op}${value / 100} or ${name}${op}${num}%.`);
      break;
    case 'percent':
      if (unit && unit !== '%') throw wrongUnit(where, name, unit, 'a percentage: write 85 or 85%');
      threshold = value;
      break;
    default:
      if (unit) throw wrongUnit(where, name, unit, 'a count: write a plain number');
      threshold = value;
  }
  return { text, spec, op: op as Op, threshold };
}

function unknownName(where: string, name: string) {
  const near = METRICS.map((s) => s.name).filter((n) => n.startsWith(name.toLowerCase().slice(0, 4)));
  return usageError(
    `${where}: unknown metric "${name}".`,
    `${near.length ? `Did you mean ${near.join(' or ')}? ` : ''}Known: ${METRICS.map((s) => s.name).join(', ')}.`,
  );
}

const wrongUnit = (where: string, name: string, unit: string, what: string) =>
  usageError(`${where}: "${unit}" is not a unit for ${name}.`, `${name} is ${what}.`);

export function holds(c: Condition, value: number): boolean {
  switch (c.op) {
    case '<':
      return value < c.threshold;
    case '<=':
      return value <= c.threshold;
    case '>':
      return value > c.threshold;
    case '>=':
      return value >= c.threshold;
    case '==':
      return value === c.threshold;
    case '!=':
      return value !== c.threshold;
  }
}

// ---- checking a report -------------------------------------------------------------------------------------------

export interface Check {
  condition: Condition;
  fleet: FleetStats;
  value: number | null;
  /** breach: the condition holds; no-data: not checked (missing data never breaches). */
  status: 'ok' | 'breach' | 'no-data';
}

/** Every condition against every fleet, in flag order then fleet order. */
export function evaluate(conditions: Condition[], fleets: FleetStats[]): Check[] {
  return conditions.flatMap((condition) =>
    fleets.map((fleet) => {
      const value = fleet.summary[condition.spec.name];
      const status: Check['status'] = value === null ? 'no-data' : holds(condition, value) ? 'breach' : 'ok';
      return { condition, fleet, value, status };
    }),
  );
}
