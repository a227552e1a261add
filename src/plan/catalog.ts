import fs from 'node:fs';
import { z } from 'zod';
import { usageError } from '../output/errors.js';

/** An instance type the plan can size: memory, vCPUs and an hourly price. */
export interface InstanceType {
  type: string;
  memoryBytes: number;
  vcpus: number;
  pricePerHour: number;
  /** Where the price comes from (the built-in list, or the --catalog file). */
  priceSource: string;
}

const GiB = 1024 ** 3;

/**
 * SageMaker real-time inference, on-demand LIST prices per instance-hour in us-east-1 (N. Virginia), as published on
 * the SageMaker pricing page in 2024. They are list prices to check against today's page (and your region, savings
 * plans or discounts): pass your own with --catalog FILE.
 */
export const BUILT_IN_PRICE_SOURCE = 'list price, us-east-1, on-demand, SageMaker pricing page 2024 (verify)';

const BUILT_IN: [type: string, vcpus: number, memoryGiB: number, pricePerHour: number][] = [
  ['ml.c5.large', 2, 4, 0.102],
  ['ml.c5.xlarge', 4, 8, 0.204],
  ['ml.c5.2xlarge', 8, 16, 0.408],
  ['ml.c5.4xlarge', 16, 32, 0.816],
  ['ml.m5.large', 2, 8, 0.115],
  ['ml.m5.xlarge', 4, 16, 0.23],
  ['ml.m5.2xlarge', 8, 32, 0.461],
  ['ml.m5.4xlarge', 16, 64, 0.922],
  ['ml.r5.large', 2, 16, 0.151],
  ['ml.r5.xlarge', 4, 32, 0.302],
  ['ml.r5.2xlarge', 8, 64, 0.605],
  ['ml.r5.4xlarge', 16, 128, 1.21],
];

export function builtInCatalog(): InstanceType[] {
  return BUILT_IN.map(([type, vcpus, gib, pricePerHour]) => ({ type, vcpus, memoryBytes: gib * GiB, pricePerHour, priceSource: BUILT_IN_PRICE_SOURCE }));
}

const entrySchema = z.strictObject({
  type: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/i, 'an instance type such as ml.m5.large'),
  memoryBytes: z.number().int().positive(),
  vcpus: z.number().int().positive().max(1024),
  pricePerHour: z.number().nonnegative(),
});
const fileSchema = z.array(entrySchema).min(1);

/** The built-in catalogue with a --catalog file's entries on top (same type: replaced; new type: added). */
export function loadCatalog(file: string | undefined): InstanceType[] {
  const catalog = builtInCatalog();
  if (file === undefined) return catalog;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw usageError(
      `--catalog ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`,
      'Give a JSON file of [{"type","memoryBytes","vcpus","pricePerHour"}].',
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw usageError(
      `--catalog ${file}: not JSON (${(e as Error).message}).`,
      'Give a JSON list such as [{"type":"ml.m5.large","memoryBytes":8589934592,"vcpus":2,"pricePerHour":0.115}].',
    );
  }
  const parsed = fileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? `[${issue.path.join('].')}${issue.path.length > 1 ? '' : ']'}` : 'the document';
    throw usageError(
      `--catalog ${file}: ${where.replace(/\]\.(\w+)$/, '].$1')}: ${issue.message}.`,
      'Each entry is {"type":"ml.m5.large","memoryBytes":8589934592,"vcpus":2,"pricePerHour":0.115}, nothing else.',
    );
  }
  for (const e of parsed.data) {
    const entry = { ...e, priceSource: `--catalog ${file}` };
    const i = catalog.findIndex((c) => c.type === e.type);
    if (i >= 0) catalog[i] = entry;
    else catalog.push(entry);
  }
  return catalog;
}

/** The named types, in the order given; an unknown one is a usage error listing the known ones. */
export function pickTypes(catalog: InstanceType[], names: string[], flag: string): InstanceType[] {
  return names.map((name) => {
    const found = catalog.find((c) => c.type === name);
    if (!found) {
      throw usageError(
        `${flag}: unknown instance type "${name}" (known: ${catalog.map((c) => c.type).join(', ')}).`,
        'Add it with --catalog FILE, or pick a known one.',
      );
    }
    return found;
  });
}
