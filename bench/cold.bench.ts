/**
 * The cold path, against xgboost in the same run (needs Debian's python3-xgboost under /usr/bin/python3; skipped with
 * a note when it is missing). Run: npm run build && node --import tsx bench/cold.bench.ts
 *
 * Model: 600 random full trees of depth 10, 50 features, binary:logistic (bench/lib/synthetic_model.py), saved by
 * xgboost as legacy binary `xgboost-model` (packaged with `mme package` into the ~20 MB cold-start artifact), UBJSON
 * and JSON. Everything lives in a temp folder removed at the end.
 *
 *   cold start   first invocation of a never-seen model on a running `mme local` (read in place from the file://
 *                prefix, extract, load, score one row; the model file reaches the disk cache after the answer, and
 *                Python's run starts once it has)   vs  python: copy + tarfile + Booster load + predict one row, its
 *                runs alternating with ours                                                     goal <= 0.6
 *                (informative rows: the endpoint's own split into download+extract and load, from GET /models, and
 *                the time one thread takes to inflate the artifact, zlib.gunzipSync, measured after the runs)
 *   load         read + parse + compile in process (loadModelPath), per format  vs  xgboost Booster(model_file=)
 *                                                                   goal JSON <= 1.0, UBJSON and binary <= 1.5
 *                (informative rows: the CPU time of the same loads, both sides, all threads)
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { gunzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadModelPath } from '../src/local/runtimes/xgboost/index.js';
import { baseEnv, MME } from '../test/helpers/cli.js';
import { printTable, type Row } from './lib/measure.js';

const PYTHON = '/usr/bin/python3';
const LIB_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib');
const RUNS = Number(process.env.MME_BENCH_COLD_RUNS ?? 7);
const FORMATS = { binary: 'xgboost-model', ubj: 'model.ubj', json: 'model.json' } as const;

const PY_MODEL = String.raw`
import os, sys
import numpy as np
sys.path.insert(0, ${JSON.stringify(LIB_DIR)})
from synthetic_model import synthetic_booster
out = sys.argv[1]
booster = synthetic_booster(np.random.default_rng(42), 600, 10, 50, out)
for name in ${JSON.stringify(Object.values(FORMATS))}:
    booster.save_model(os.path.join(out, name))
`;

/** A long-lived helper: "cold <artifact>" or "load <model file>" per stdin line, {"ms": …} per stdout line. */
const PY_HELPER = String.raw`
import json, os, shutil, sys, tarfile, tempfile, time
import numpy as np
import xgboost as xgb
row = np.array([[0.1] * 50], dtype=float)
for line in sys.stdin:
    kind, arg = line.strip().split(" ", 1)
    t = time.perf_counter()
    if kind == "cold":
        work = tempfile.mkdtemp()
        local = os.path.join(work, "model.tar.gz")
        shutil.copyfile(arg, local)
        with tarfile.open(local) as tar:
            tar.extractall(os.path.join(work, "model"))
        booster = xgb.Booster(model_file=os.path.join(work, "model", "xgboost-model"))
        booster.set_param({"nthread": 1})
        booster.predict(xgb.DMatrix(row), validate_features=False)
        ms = (time.perf_counter() - t) * 1e3
        shutil.rmtree(work)
        cpu = None
    else:
        c = time.process_time()
        xgb.Booster(model_file=arg)
        ms = (time.perf_counter() - t) * 1e3
        cpu = (time.process_time() - c) * 1e3
    print(json.dumps({"ms": ms, "cpu": cpu}), flush=True)
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function startHelper(file: string) {
  const child = spawn(PYTHON, [file], { env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    /** Wall-clock ms, and CPU ms (all threads) of a load. */
    async run(kind: 'cold' | 'load', arg: string): Promise<{ ms: number; cpu: number }> {
      child.stdin.write(`${kind} ${arg}\n`);
      const line = await lines.next();
      if (line.done) throw new Error('the python helper stopped');
      return JSON.parse(line.value) as { ms: number; cpu: number };
    },
    close: () => child.stdin.end(),
  };
}

function startLocal(prefix: string, cache: string): Promise<{ url: string; stop(): void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MME, 'local', '--port', '0', '--json', '--prefix', `file://${prefix}/`, '--cache-dir', cache], {
      env: baseEnv(),
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('\n')) resolve({ url: JSON.parse(out.split('\n')[0]).result.url, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`mme local exited with ${code}`)));
  });
}

async function main() {
  if (!existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import xgboost']).status !== 0) {
    console.log(`cold bench skipped: ${PYTHON} cannot import xgboost (apt-get install -y python3-xgboost)`);
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mme-cold-bench-'));
  try {
    writeFileSync(path.join(dir, 'make.py'), PY_MODEL);
    const made = spawnSync(PYTHON, [path.join(dir, 'make.py'), dir], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    if (made.status !== 0) throw new Error(made.stderr);
    const modelDir = path.join(dir, 'pkg');
    mkdirSync(modelDir);
    copyFileSync(path.join(dir, FORMATS.binary), path.join(modelDir, 'xgboost-model'));
    const artifact = path.join(dir, 'cold.tar.gz');
    const pkg = spawnSync(process.execPath, [MME, 'package', modelDir, '-o', artifact], { encoding: 'utf8', env: baseEnv() });
    if (pkg.status !== 0) throw new Error(pkg.stderr);
    const prefix = path.join(dir, 'prefix');
    mkdirSync(prefix);
    const names = Array.from({ length: RUNS + 1 }, (_, i) => `cold-${i}.tar.gz`);
    for (const n of names) copyFileSync(artifact, path.join(prefix, n));

    writeFileSync(path.join(dir, 'helper.py'), PY_HELPER);
    const py = startHelper(path.join(dir, 'helper.py'));
    const local = await startLocal(prefix, path.join(dir, 'cache'));
    const row = Array(50).fill('0.1').join(',');
    const ours: number[] = [];
    const inflate: number[] = [];
    const artifactBytes = readFileSync(artifact);
    const split: { download: number; load: number }[] = [];
    const reference: number[] = [];
    try {
      // Each side's run starts with nothing left for the kernel to write back: both write the 44 MB model to disk
      // (and delete it after), and the writeback of one run's files must not land in the next run.
      const settle = () => spawnSync('sync');
      for (let i = 0; i < names.length; i++) {
        settle();
        const t = performance.now();
        const res = await fetch(`${local.url}/endpoints/local-mme/invocations`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/csv', 'X-Amzn-SageMaker-Target-Model': names[i] },
          body: row,
        });
        if (res.status !== 200) throw new Error(`cold invocation failed: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
        const ms = performance.now() - t;
        // The endpoint answers before the model's files are on disk: Python's run starts once they are (and synced).
        let info: { downloadMs: number; loadMs: number; writingToDisk: boolean };
        do info = (await (await fetch(`${local.url}/models/${names[i]}`)).json()) as typeof info;
        while (info.writingToDisk);
        await fetch(`${local.url}/models/${names[i]}`, { method: 'DELETE' });
        settle();
        const ref = (await py.run('cold', artifact)).ms;
        if (i === 0) continue; // warm-up of both sides
        ours.push(ms);
        split.push({ download: info.downloadMs, load: info.loadMs });
        reference.push(ref);
      }
      // Apart from the cold starts: right before one, this process's 160 ms of inflating (and then collecting its
      // 44 MB) would run beside it on the same 2 cores.
      for (let i = 0; i < RUNS; i++) {
        const inflateStart = performance.now();
        gunzipSync(artifactBytes);
        inflate.push(performance.now() - inflateStart);
      }
      const loads: Row[] = [];
      for (const [format, file] of Object.entries(FORMATS)) {
        const full = path.join(dir, file);
        const oursLoad: number[] = [];
        const refLoad: number[] = [];
        const oursCpu: number[] = [];
        const refCpu: number[] = [];
        for (let i = 0; i <= RUNS; i++) {
          const t = performance.now();
          const cpu = process.cpuUsage();
          loadModelPath(full, file);
          const ms = performance.now() - t;
          const used = process.cpuUsage(cpu);
          const ref = await py.run('load', full);
          if (i === 0) continue;
          oursLoad.push(ms);
          refLoad.push(ref.ms);
          oursCpu.push((used.user + used.system) / 1e3);
          refCpu.push(ref.cpu);
        }
        const name = `load ${format} (${(statSync(full).size / 1e6).toFixed(1)} MB)`;
        loads.push({
          name,
          ours: median(oursLoad),
          reference: median(refLoad),
          referenceName: 'xgboost Booster(model_file)',
          goal: format === 'json' ? 1.0 : 1.5,
        });
        // informative: CPU time (all threads) is far less sensitive than wall-clock time to other jobs on the machine
        loads.push({ name: '  CPU time', ours: median(oursCpu), reference: median(refCpu), referenceName: 'xgboost, CPU time' });
      }
      console.log(
        `\ncold path: 600 trees of depth 10, artifact ${(statSync(artifact).size / 1e6).toFixed(1)} MB, median of ${RUNS} runs; load average ${os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
      );
      printTable([
        { name: 'cold start (first invocation)', ours: median(ours), reference: median(reference), referenceName: 'python copy+tarfile+Booster', goal: 0.6 },
        { name: '  of which download+extract', ours: median(split.map((s) => s.download)), reference: NaN, referenceName: 'GET /models' },
        { name: '  of which load', ours: median(split.map((s) => s.load)), reference: NaN, referenceName: 'GET /models' },
        { name: '  (inflating the artifact on one thread)', ours: median(inflate), reference: NaN, referenceName: 'zlib.gunzipSync, after' },
        ...loads,
      ]);
    } finally {
      py.close();
      local.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
