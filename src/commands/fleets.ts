import { renderTable } from '../output/format.js';
import { defineCommand } from './command.js';

export default defineCommand({
  name: 'fleets',
  summary: 'list the fleets in the config file',
  examples: ['mme fleets', 'mme fleets --json'],
  async run(ctx) {
    const { resolveFleet } = await import('../config/load.js');
    const loaded = ctx.configFile();
    const fleets = Object.keys(loaded.file.fleets)
      .sort()
      .map((name) => {
        // The file's own values (normalised), without this shell's flags and environment.
        const s = resolveFleet({}, {}, loaded, name).settings;
        return {
          name,
          default: name === loaded.file.defaultFleet,
          prefix: s.prefix.value ?? null,
          endpointName: s.endpointName.value ?? null,
          variant: s.variant.value ?? null,
          region: s.region.value ?? null,
          endpointUrl: s.endpointUrl.value ?? null,
        };
      });
    ctx.out.result({ configFile: loaded.path ?? null, fleets }, () => {
      if (!loaded.path) return 'no mme.config.json found (looked in this folder, its parents and ~/.config/mme/config.json).';
      const rows = fleets.map((f) => [f.name + (f.default ? ' *' : ''), f.prefix ?? '-', f.endpointName ?? '-', f.region ?? '-', f.endpointUrl ?? '-']);
      return renderTable(['fleet', 'prefix', 'endpoint', 'region', 'endpoint url'], rows, ctx.out.stdoutIsTTY);
    });
  },
});
