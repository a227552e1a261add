import fs from 'node:fs/promises';
import { checkModelName } from '../artifacts/names.js';
import { usageError } from '../output/errors.js';
import type { WeightedTarget } from './load.js';
import { fileReadError } from './request.js';

/**
 * The models to call: every --target (weight 1), then the lines of --targets-file, each `name [weight]`;
 * blank lines and `#` comments are skipped. Names follow the TargetModel rules; a name listed twice is an error
 * (give it a weight instead).
 */
export async function resolveTargets(flagTargets: string[], targetsFile: string | undefined): Promise<WeightedTarget[]> {
  const targets: WeightedTarget[] = flagTargets.map((name) => ({ name: checkModelName(name, '--target'), weight: 1 }));
  if (targetsFile !== undefined) targets.push(...parseTargets(await readTargetsFile(targetsFile), targetsFile));
  if (!targets.length) {
    throw usageError('no target model given.', 'Pass --target m37.tar.gz (a name as `mme ls` prints it), or --targets-file for several.');
  }
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t.name)) throw usageError(`target ${t.name} is given twice.`, 'List each model once; use a weight in --targets-file to call one more often.');
    seen.add(t.name);
  }
  return targets;
}

async function readTargetsFile(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    throw fileReadError('--targets-file', file, e);
  }
}

export function parseTargets(text: string, file: string): WeightedTarget[] {
  const out: WeightedTarget[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const where = `--targets-file ${file} line ${i + 1}`;
    const m = /^(\S+)(?:\s+(\S+))?$/.exec(line);
    if (!m) throw usageError(`${where}: expected "name [weight]", got "${line.slice(0, 60)}".`, 'Write one model per line, e.g. "m37.tar.gz 3".');
    const weight = m[2] === undefined ? 1 : Number(m[2]);
    if (!Number.isInteger(weight) || weight < 1 || weight > 1_000_000) {
      throw usageError(`${where}: weight "${m[2]}" is not a whole number from 1 to 1000000.`, 'Write e.g. "m37.tar.gz 3" to call m37 three times as often.');
    }
    out.push({ name: checkModelName(m[1], where), weight });
  });
  if (!out.length) throw usageError(`--targets-file ${file} lists no models.`, 'Write one model per line, e.g. "m37.tar.gz" or "m37.tar.gz 3".');
  return out;
}
