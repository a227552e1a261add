// Which fleet a command acts on when the config file has several and none was chosen: the error names the choices.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { mme, tempDir } from './helpers/cli.js';

describe('fleet choice', () => {
  const work = tempDir();
  const config = path.join(work, 'mme.config.json');
  fs.mkdirSync(path.join(work, 'a'));
  fs.mkdirSync(path.join(work, 'b'));
  fs.writeFileSync(config, JSON.stringify({ fleets: { a: { prefix: 'file://./a/' }, b: { prefix: 'file://./b/' } } }));

  test('two fleets and no defaultFleet: one line naming the choices (exit 2); --fleet or MME_FLEET picks one', async () => {
    const r = await mme(['ls'], { cwd: work });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[0], new RegExp(`^mme: ${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has 2 fleets and none was chosen`));
    assert.match(r.stderr, /pick one with --fleet a\|b/i);
    assert.doesNotMatch(r.stderr, /^mme: no prefix configured/m);

    const json = await mme(['ls', '--json'], { cwd: work });
    assert.equal(json.code, 2);
    assert.equal(json.json.status, 'error');
    assert.match(json.json.error.hint, /--fleet a\|b/);

    for (const [args, env] of [
      [['--fleet', 'b'], {}],
      [[], { MME_FLEET: 'a' }],
    ] as const) {
      const ok = await mme(['ls', '--json', ...args], { cwd: work, env });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.json.result.count, 0);
    }
  });

  test('a flag that supplies the missing setting needs no fleet', async () => {
    const r = await mme(['ls', '--json', '--prefix', `file://${path.join(work, 'a')}/`], { cwd: work });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.result.prefix, `file://${path.join(work, 'a')}/`);
  });
});
