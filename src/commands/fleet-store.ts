import { clientSettings } from '../aws/clients.js';
import { requireSetting } from '../config/load.js';
import { openStore, type Store } from '../store/index.js';
import type { Context } from './command.js';

/** The selected fleet's model store: what push, rm and ls work on. */
export function fleetStore(ctx: Context): Promise<Store> {
  const config = ctx.config();
  return openStore(requireSetting(config, 'prefix'), clientSettings(config), ctx.signal);
}
