import type { AnyCommandSpec } from './command.js';
import config from './config.js';
import fleets from './fleets.js';
import invoke from './invoke.js';
import local from './local.js';
import ls from './ls.js';
import packageCommand from './package.js';
import plan from './plan.js';
import predict from './predict.js';
import push from './push.js';
import gc from './gc.js';
import promote from './promote.js';
import release from './release.js';
import resolve from './resolve.js';
import rm from './rm.js';
import rollback from './rollback.js';
import sync from './sync.js';
import versions from './versions.js';
import stats from './stats.js';

/** Every command, in the order `mme --help` lists them. Modules here stay light: heavy imports happen in handlers. */
export const commands: AnyCommandSpec[] = [
  packageCommand,
  predict,
  push,
  ls,
  rm,
  invoke,
  stats,
  plan,
  config,
  fleets,
  local,
  release,
  promote,
  rollback,
  versions,
  resolve,
  sync,
  gc,
];
