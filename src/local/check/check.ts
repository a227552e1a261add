import type { Context } from '../../commands/command.js';
import type { ContainerFlags } from '../container/setup.js';

export async function runContractCheck(_ctx: Context, _flags: ContainerFlags, _env: { memoryBudget: number; defaultAccept: string; region: string }): Promise<void> {
  throw new Error('not yet');
}
