import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Output } from '../../output/output.js';
import { renderTable } from '../../output/format.js';
import { ExitCode, usageError } from '../../output/errors.js';
import type { Store } from '../../store/index.js';
import { DEFAULT_MAX_ENTRIES, extractArtifact } from '../extract.js';
import { answerMessage, type ContainerAnswer, type ContainerClient } from '../container/client.js';
import { ContainerStartError } from '../container/process.js';
import { setUpContainer, type ContainerFlags } from '../container/setup.js';

/**
 * `mme local --check`: drives a serving container through the multi-model contract the way SageMaker does and says,
 * call by call, whether it answered as the contract says. One artifact from the prefix is extracted twice (two model
 * names) so that loading, listing with paging and unloading can all be seen.
 */

export interface CheckRow {
  check: string;
  call: string;
  /** pass, fail, or skip (the container gave no occasion to check it). */
  result: 'pass' | 'fail' | 'skip';
  detail: string;
}

export interface CheckOptions {
  out: Output;
  flags: ContainerFlags;
  memoryBudget: number;
  defaultAccept: string;
  region: string;
  store: Store;
  /** The artifact to load (default: the first one under the prefix). */
  model?: string;
  /** A request body the model answers 2xx to; without it, any answer but 404 counts as an answer. */
  body?: string;
  contentType?: string;
}

const NAMES = ['mme-check-a', 'mme-check-b'];

/** Runs the check; returns the exit code (4 when a row failed). */
export async function runContractCheck(o: CheckOptions): Promise<number> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'mme-check-'));
  try {
    const model =
      o.model ??
      (await o.store.list())
        .map((m) => m.name)
        .filter((n) => n.endsWith('.tar.gz'))
        .sort()[0];
    if (!model)
      throw usageError(
        `--check needs one artifact under ${o.store.url} to load into the container; there is none.`,
        'Push one (mme push), or name one with --models-preload.',
      );
    const modelDir = path.join(work, 'models');
    await fsp.mkdir(modelDir);
    const tarball = path.join(work, 'artifact.tar.gz');
    await o.store.download(model, tarball);
    for (const name of NAMES) await extractArtifact(tarball, path.join(modelDir, name), { maxBytes: 64 * 1024 ** 3, maxEntries: DEFAULT_MAX_ENTRIES });
    let setup;
    try {
      setup = await setUpContainer(o.flags, {
        cacheDir: work,
        modelDir,
        memoryBudget: o.memoryBudget,
        defaultAccept: o.defaultAccept,
        region: o.region,
        evictLeastRecent: () => false,
        log: () => {},
      });
    } catch (err) {
      if (err instanceof ContainerStartError) {
        return report(o, model, [{ check: 'answers GET /ping', call: 'GET /ping', result: 'fail', detail: err.message.split('\n')[0] }]);
      }
      throw err;
    }
    try {
      const containerDir = o.flags.containerModelDir ?? modelDir;
      const rows = await exercise(
        setup.client,
        NAMES.map((n) => ({ name: n, url: path.posix.join(containerDir, n) })),
        o,
      );
      return report(o, model, rows);
    } finally {
      await setup.close();
    }
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}

async function exercise(client: ContainerClient, models: { name: string; url: string }[], o: CheckOptions): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  const row = (check: string, call: string, ok: boolean | 'skip', detail: string) =>
    rows.push({ check, call, result: ok === 'skip' ? 'skip' : ok ? 'pass' : 'fail', detail });
  const said = (a: ContainerAnswer) => `${a.status}${a.status >= 300 ? `: ${answerMessage(a).split('\n')[0].slice(0, 80)}` : ''}`;
  const [a, b] = models;
  const unknown = 'mme-check-not-loaded';

  const ping = await client.ping(5000);
  row('answers GET /ping', 'GET /ping', ping.status === 200, `answered ${said(ping)}`);

  const loadA = await client.load(a.name, a.url);
  row('loads a model', `POST /models ${a.name}`, loadA.status === 200, `answered ${said(loadA)}`);
  const again = await client.load(a.name, a.url);
  row('a second LOAD of a loaded model is 409', `POST /models ${a.name}`, again.status === 409, `answered ${said(again)}`);

  let loadB = await client.load(b.name, b.url);
  let saw507 = false;
  if (loadB.status === 507) {
    saw507 = true;
    const freed = await client.unload(a.name);
    loadB = await client.load(b.name, b.url);
    row(
      '507 (memory full) on LOAD: unloading one model makes room',
      `DELETE ${a.name}, POST /models ${b.name}`,
      freed.status === 200 && loadB.status === 200,
      `unload ${said(freed)}, then load ${said(loadB)}`,
    );
    const reload = await client.load(a.name, a.url);
    if (reload.status === 507) await client.unload(b.name).then(() => client.load(a.name, a.url));
  } else {
    row('loads a second model', `POST /models ${b.name}`, loadB.status === 200, `answered ${said(loadB)}`);
  }
  if (!saw507)
    row(
      '507 (memory full) on LOAD: unloading one model makes room',
      'POST /models',
      'skip',
      'the container never answered 507 (it reports no memory pressure)',
    );

  // LIST, one model per page: every loaded model once, then no token.
  const seen: string[] = [];
  let token: string | undefined;
  let pages = 0;
  let pagingOk = true;
  let listDetail = '';
  for (;;) {
    const page = await client.list(token, 1);
    pages++;
    if (page.status !== 200) {
      pagingOk = false;
      listDetail = `answered ${said(page)}`;
      break;
    }
    const doc = JSON.parse(page.body.toString('utf8') || '{}') as { models?: { modelName?: string }[]; nextPageToken?: string; next_page_token?: string };
    const names = (doc.models ?? []).map((m) => m.modelName ?? '?');
    if (names.length > 1) pagingOk = false;
    seen.push(...names);
    token = doc.nextPageToken ?? doc.next_page_token;
    if (!token || pages > 10) break;
  }
  const expectLoaded = saw507 ? 1 : 2;
  const listed = [...new Set(seen)].sort();
  if (!listDetail) listDetail = `${pages} page(s) of at most 1 (limit=1): ${seen.join(', ') || 'none'}`;
  row(
    'LIST pages with limit and next_page_token',
    'GET /models?limit=1',
    pagingOk && seen.length === listed.length && listed.length >= expectLoaded,
    listDetail,
  );

  const getA = await client.get(a.name);
  row('GET of a loaded model', `GET /models/${a.name}`, getA.status === 200, `answered ${said(getA)}`);
  const getUnknown = await client.get(unknown);
  row('GET of a model not loaded is 404', `GET /models/${unknown}`, getUnknown.status === 404, `answered ${said(getUnknown)}`);

  const body = Buffer.from(o.body ?? '');
  const inv = await client.invoke(a.name, body, o.contentType ?? 'text/csv', o.defaultAccept, undefined);
  if (o.body !== undefined) row('INVOKE answers 2xx', `POST /models/${a.name}/invoke`, inv.status >= 200 && inv.status < 300, `answered ${said(inv)}`);
  else
    row(
      'INVOKE answers',
      `POST /models/${a.name}/invoke`,
      inv.status !== 404 && inv.status !== 0,
      `answered ${said(inv)} to an empty body (give --check-body for a real request)`,
    );
  const invUnknown = await client.invoke(unknown, body, o.contentType ?? 'text/csv', o.defaultAccept, undefined);
  row('INVOKE of a model not loaded is 404', `POST /models/${unknown}/invoke`, invUnknown.status === 404, `answered ${said(invUnknown)}`);

  const del = await client.unload(a.name);
  row('UNLOAD a loaded model', `DELETE /models/${a.name}`, del.status === 200, `answered ${said(del)}`);
  const getGone = await client.get(a.name);
  row('GET after UNLOAD is 404', `GET /models/${a.name}`, getGone.status === 404, `answered ${said(getGone)}`);
  const invGone = await client.invoke(a.name, body, o.contentType ?? 'text/csv', o.defaultAccept, undefined);
  row('INVOKE after UNLOAD is 404', `POST /models/${a.name}/invoke`, invGone.status === 404, `answered ${said(invGone)}`);
  const delAgain = await client.unload(unknown);
  row('UNLOAD of a model not loaded is 404', `DELETE /models/${unknown}`, delAgain.status === 404, `answered ${said(delAgain)}`);
  const pingAfter = await client.ping(5000);
  row('still answers GET /ping', 'GET /ping', pingAfter.status === 200, `answered ${said(pingAfter)}`);
  await client.unload(b.name).catch(() => undefined);
  return rows;
}

function report(o: CheckOptions, model: string, rows: CheckRow[]): number {
  const failed = rows.filter((r) => r.result === 'fail');
  o.out.result({ model, passed: rows.filter((r) => r.result === 'pass').length, failed: failed.length, checks: rows }, () =>
    renderTable(
      ['RESULT', 'CHECK', 'CALL', 'DETAIL'],
      rows.map((r) => [r.result.toUpperCase(), r.check, r.call, r.detail]),
      o.out.stdoutIsTTY,
    ),
  );
  if (failed.length) {
    o.out.info(`mme: ${failed.length} of ${rows.length} contract checks failed: ${failed.map((r) => r.check).join('; ')}.`);
    return ExitCode.threshold;
  }
  o.out.info(
    `all ${rows.filter((r) => r.result === 'pass').length} contract checks passed${rows.some((r) => r.result === 'skip') ? ' (some skipped, see the table)' : ''}.`,
  );
  return ExitCode.ok;
}
