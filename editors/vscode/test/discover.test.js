// Tests of the discoverConfig the extension writes (node --test, no VS Code needed).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { detectBuildSystems, discoverConfig } = require('../discover');

test('gn root gets BUILD.gn watched and {arg} as a whole element', () => {
  const cfg = discoverConfig('/usr/bin/projmodel', detectBuildSystems(['.gn', 'BUILD.gn'], undefined));
  assert.deepStrictEqual(cfg.command, ['/usr/bin/projmodel', 'discover', '{arg}']);
  assert.strictEqual(cfg.progressLabel, 'projmodel');
  assert.deepStrictEqual(cfg.filesToWatch, ['BUILD.gn', '.gn']);
});

test('subprojects add their build files', () => {
  const systems = detectBuildSystems([], { build_system: 'gn', subprojects: [{ root: 'third_party/rust', build_system: 'cargo' }] });
  assert.deepStrictEqual(systems, ['gn', 'cargo']);
  assert.ok(discoverConfig('projmodel', systems).filesToWatch.includes('Cargo.toml'));
});

test('markers pick one build system when there is no configuration', () => {
  assert.deepStrictEqual(detectBuildSystems(['WORKSPACE', 'Cargo.toml'], undefined), ['bazel']);
  assert.deepStrictEqual(detectBuildSystems(['README.md'], undefined), []);
});
