import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { usageError } from '../output/errors.js';

/** A model as the plan sees it: its name (as TargetModel takes it) and the bytes one copy takes in memory. */
export interface PlanModel {
  name: string;
  bytes: number;
}

/** How each model's size was found, said in the output. */
export type SizeSource = 'csv' | 'measured' | 'estimated';

export interface ModelSet {
  models: PlanModel[];
  source: SizeSource;
  /** Where they came from (file, folder, prefix). */
  from: string;
}

/**
 * `--models FILE` as a CSV `name,bytes` (in-memory bytes; a header line is allowed, `#` comments skipped), or
 * `--models DIR`, a folder of models: sub-folders (named `<folder>.tar.gz`, as `mme package` names their
 * artifacts), `.tar.gz` artifacts and single model files.
 */
export async function modelsFromPath(file: string, options: { measure: boolean; factor: number; signal: AbortSignal }): Promise<ModelSet> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    throw usageError(
      `--models ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (e as Error).message}.`,
      'Give a CSV of name,bytes or a folder of models.',
    );
  }
  if (stat.isDirectory()) return modelsFromFolder(file, options);
  if (options.measure)
    throw usageError(`--measure loads models from a folder; --models ${file} is a CSV of sizes.`, 'Drop --measure, or give the folder of models.');
  return { models: parseModelsCsv(fs.readFileSync(file, 'utf8'), file), source: 'csv', from: file };
}

export function parseModelsCsv(text: string, file: string): PlanModel[] {
  const models: PlanModel[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const cells = line.split(',').map((c) => c.trim());
    if (models.length === 0 && i === firstLine(text) && /^name$/i.test(cells[0]) && /^bytes$/i.test(cells[1] ?? '')) return;
    const where = `--models ${file} line ${i + 1}`;
    const bytes = Number(cells[1]);
    if (cells.length !== 2 || !cells[0] || !/^\d+$/.test(cells[1]) || bytes <= 0) {
      throw usageError(
        `${where}: expected "name,bytes" with bytes a whole number above 0, got "${line.slice(0, 60)}".`,
        'Write one model per line, e.g. "m37.tar.gz,52428800".',
      );
    }
    if (seen.has(cells[0])) throw usageError(`${where}: model ${cells[0]} is listed twice.`, 'List each model once.');
    seen.add(cells[0]);
    models.push({ name: cells[0], bytes });
  });
  if (!models.length) throw usageError(`--models ${file} lists no models.`, 'Write one "name,bytes" line per model.');
  return models;
}

const firstLine = (text: string) => text.split(/\r?\n/).findIndex((l) => l.replace(/#.*$/, '').trim() !== '');

async function modelsFromFolder(dir: string, options: { measure: boolean; factor: number; signal: AbortSignal }): Promise<ModelSet> {
  const entries = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .filter((e) => e.isDirectory() || (e.isFile() && isModelEntry(e.name)))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (!entries.length)
    throw usageError(
      `--models ${dir}: the folder holds no models (sub-folders, .tar.gz artifacts or model files).`,
      'Point --models at a folder of models, or a CSV of name,bytes.',
    );
  const models: PlanModel[] = [];
  for (const e of entries) {
    const full = path.join(dir, e.name);
    const name = e.isDirectory() ? `${e.name}.tar.gz` : e.name;
    const bytes = options.measure
      ? await measure(full, e.isDirectory(), options.signal)
      : Math.max(1, Math.round(uncompressedBytes(full, e.isDirectory()) * options.factor));
    models.push({ name, bytes });
  }
  return { models, source: options.measure ? 'measured' : 'estimated', from: dir };
}

function isModelEntry(name: string): boolean {
  return !/\.(csv|json\.sum|py|md|txt|sh)$/i.test(name) && name !== 'summary.json';
}

/** The bytes of a folder's files, or of an artifact once gunzipped (gzip's ISIZE), or of a file. */
function uncompressedBytes(file: string, isDir: boolean): number {
  if (isDir) {
    let n = 0;
    for (const f of fs.readdirSync(file, { recursive: true, withFileTypes: true })) if (f.isFile()) n += fs.statSync(path.join(f.parentPath, f.name)).size;
    return n;
  }
  if (file.endsWith('.tar.gz') || file.endsWith('.tgz')) {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const tail = Buffer.alloc(4);
      fs.readSync(fd, tail, 0, 4, Math.max(0, size - 4));
      return tail.readUInt32LE(0) || size;
    } finally {
      fs.closeSync(fd);
    }
  }
  return fs.statSync(file).size;
}

/** The footprint our runtime (the one `mme local` serves) gives the model once loaded. */
async function measure(file: string, isDir: boolean, signal: AbortSignal): Promise<number> {
  const xgboost = await import('../local/runtimes/xgboost/index.js');
  const fail = (err: unknown) =>
    usageError(`--measure: ${file} does not load: ${(err as Error).message}.`, 'Check it with `mme predict`, or give sizes with --models FILE.csv.');
  try {
    if (isDir) return (await xgboost.loadModelDir(file)).footprintBytes;
    if (!file.endsWith('.tar.gz') && !file.endsWith('.tgz')) return (await xgboost.loadModelFile(file)).footprintBytes;
    const { extractArtifact, DEFAULT_MAX_ENTRIES } = await import('../local/extract.js');
    const scratch = await fsp.mkdtemp(path.join(os.tmpdir(), 'mme-plan-'));
    try {
      await extractArtifact(file, path.join(scratch, 'model'), { maxBytes: 64 * 1024 ** 3, maxEntries: DEFAULT_MAX_ENTRIES }, signal);
      return (await xgboost.loadModelDir(path.join(scratch, 'model'))).footprintBytes;
    } finally {
      await fsp.rm(scratch, { recursive: true, force: true });
    }
  } catch (err) {
    throw fail(err);
  }
}

/** Models of the fleet as `mme ls` lists them: the artifact's (compressed) size times the factor. */
export function modelsFromListing(objects: { name: string; size: number }[], prefix: string, factor: number): ModelSet {
  if (!objects.length) throw usageError(`the fleet's prefix ${prefix} holds no models.`, 'Push models first, or give --models FILE.');
  return { models: objects.map((o) => ({ name: o.name, bytes: Math.max(1, Math.round(o.size * factor)) })), source: 'estimated', from: prefix };
}
