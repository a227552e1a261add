import { settingKeys } from '../config/settings.js';
import { describeOrigin } from '../config/validate.js';
import { renderTable } from '../output/format.js';
import { defineCommand } from './command.js';

export default defineCommand({
  name: 'config',
  summary: 'show the resolved settings and where each came from (flag, env, file, default)',
  examples: ['mme config', 'mme config --fleet tail --json'],
  async run(ctx) {
    const config = ctx.config();
    const settings = settingKeys.map((key) => ({
      key,
      value: config.settings[key].value ?? null,
      source: describeOrigin(config.settings[key].origin, key),
    }));
    const result = { fleet: config.fleet ?? null, configFile: config.configPath ?? null, settings };
    ctx.out.result(result, () => {
      const head = `fleet: ${config.fleet ?? '(none)'}   config file: ${config.configPath ?? '(none found)'}`;
      const rows = settings.map((s) => [s.key, s.value ?? '-', s.source]);
      return head + '\n' + renderTable(['setting', 'value', 'from'], rows, ctx.out.stdoutIsTTY);
    });
  },
});
