import type { LoadedModel } from './runtimes/types.js';
import { xgboostRuntime } from './runtimes/xgboost/index.js';

/**
 * Loads an extracted artifact folder with the runtime that serves it. XGBoost is the only runtime today; another
 * framework would be chosen here from the folder's contents, so the cache and the workers stay runtime-neutral.
 */
export function loadModelDir(dir: string): Promise<LoadedModel> {
  return xgboostRuntime.loadDir(dir);
}
