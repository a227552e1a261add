import fs from 'node:fs';
import path from 'node:path';
import { findForeignFramework, foreignModelMessage } from '../artifacts/model-files.js';
import { ModelLoadError, type ArtifactFiles, type CompiledArtifact, type EarlyCompile, type InProcessModel, type Runtime } from './runtimes/types.js';
import { xgboostRuntime } from './runtimes/xgboost/index.js';

/**
 * The registry of built-in runtimes: the one place that says which runtime serves an artifact, used by `mme local`
 * (its loading threads), `mme predict` and, through ../artifacts/model-files.ts, `mme package`. Adding a runtime is
 * adding it to this list; an artifact of a framework no runtime serves fails its load with a message naming the
 * framework and the way to serve it (--handler or --container-url).
 */
const runtimes: readonly Runtime[] = [xgboostRuntime];

/** An artifact of a framework no built-in runtime serves; the message names the file and the way out. */
export class UnsupportedModelError extends ModelLoadError {
  constructor(framework: string, file: string) {
    // file + reason read as foreignModelMessage(), also once rebuilt from a loading thread's (file, reason).
    super(`${framework} model ${file}`, foreignModelMessage({ framework, file }).slice(`${framework} model ${file}: `.length));
  }
}

/** The runtime for an artifact, from the names of the files at its top. */
export function runtimeFor(files: Pick<ArtifactFiles, 'files' | 'names' | 'folders'> & { dir?: string }): Runtime {
  const top = files.names ?? files.files.map((f) => f.name);
  // A TensorFlow SavedModel sits in a version folder (1/saved_model.pb): look one level down when the top has no model.
  const nested =
    files.files.length === 0 && files.dir
      ? (files.folders ?? []).filter((f) => fs.existsSync(path.join(files.dir!, f, 'saved_model.pb'))).map((f) => `${f}/saved_model.pb`)
      : [];
  const foreign = findForeignFramework([...top, ...nested]);
  if (foreign && !runtimes.some((r) => r.name === foreign.framework)) throw new UnsupportedModelError(foreign.framework, foreign.file);
  return runtimes.find((r) => r.name === foreign?.framework) ?? xgboostRuntime;
}

/** Whether some runtime reads this file at the top of an artifact (its bytes are worth keeping while unpacking). */
export function isModelFile(name: string): boolean {
  return runtimes.some((r) => r.isModelFile(name));
}

/** Starts compiling a model file as it is unpacked, when a runtime can (see Runtime.compileEarly). */
export function compileEarly(name: string, bytes: Uint8Array, options: { shared: boolean }): EarlyCompile | undefined {
  return runtimes.find((r) => r.isModelFile(name))?.compileEarly?.(name, bytes, options);
}

/** Parse and compile an artifact's model files: the CPU-heavy part of a load, for a loading thread. */
export function compileArtifact(files: ArtifactFiles, options: { shared: boolean }): CompiledArtifact {
  return runtimeFor(files).compile(files, options);
}

/** The LoadedModel for compiled data, on any thread: no parsing, no copy. */
export function instantiateModel(compiled: CompiledArtifact): InProcessModel {
  const runtime = runtimes.find((r) => r.name === compiled.runtime);
  if (!runtime) throw new Error(`no runtime named ${compiled.runtime}`);
  return runtime.instantiate(compiled);
}

/** Load an extracted artifact folder on this thread with the runtime its files call for (`mme predict`). */
export async function loadArtifactDir(dir: string): Promise<InProcessModel> {
  const { readArtifactFiles } = await import('./runtimes/files.js');
  const files = await readArtifactFiles(dir, isModelFile);
  return runtimeFor(files).instantiate(runtimeFor(files).compile(files, { shared: false }));
}
