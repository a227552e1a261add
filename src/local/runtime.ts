import type { ArtifactFiles, CompiledArtifact, EarlyCompile, LoadedModel, Runtime } from './runtimes/types.js';
import { xgboostRuntime } from './runtimes/xgboost/index.js';

/**
 * The runtime that serves an artifact. XGBoost is the only runtime today; another framework would be chosen here
 * from the artifact's files, so the cache, the loading and the scoring threads stay runtime-neutral.
 */
const runtimes: readonly Runtime[] = [xgboostRuntime];

function runtimeFor(_files: ArtifactFiles): Runtime {
  return xgboostRuntime;
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
export function instantiateModel(compiled: CompiledArtifact): LoadedModel {
  const runtime = runtimes.find((r) => r.name === compiled.runtime);
  if (!runtime) throw new Error(`no runtime named ${compiled.runtime}`);
  return runtime.instantiate(compiled);
}
