// The tests' stand-in for rust-analyzer's run of a discover command (ra-discover.js): what it
// must refuse as rust-analyzer would, on commands made with node itself.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { fromLine, discoverFinished } = require('./ra-discover');

// A discoverConfig running node with @script, which sees the argument as process.argv[1].
const nodeDc = (script) => ({ command: [process.execPath, '-e', script, '{arg}'] });
const FINISHED = '{"kind":"finished","buildfile":"/r/BUILD.gn","project":{"crates":[]}}';

test('lines as rust-analyzer parses them', () => {
  assert.deepStrictEqual(fromLine('warning: slow', 'stderr'), { kind: 'error', error: 'warning: slow', source: null, stream: 'stderr' });
  assert.strictEqual(fromLine('{"kind":"other"}', 'stdout'), null);
  assert.strictEqual(fromLine('{"kind":"finished","project":{"crates":[]}}', 'stdout'), null);
  assert.strictEqual(fromLine('{"kind":"progress","message":"querying"}', 'stdout').message, 'querying');
  assert.match(fromLine('{"kind":"finished","buildfile":"BUILD.gn","project":{"crates":[]}}', 'stdout').invalid, /not absolute/);
  assert.strictEqual(fromLine(FINISHED, 'stdout').invalid, undefined);
});

test('the argument is the compact JSON in place of {arg}, stdin is empty', async () => {
  const script = `const fs = require('fs');
    if (process.argv[1] !== '{"path":"/r/a b.rs"}' || fs.readFileSync(0).length !== 0) process.exit(3);
    console.log('{"kind":"progress","message":"m"}'); console.log(${JSON.stringify(FINISHED)});`;
  const f = await discoverFinished(nodeDc(script), { path: '/r/a b.rs' });
  assert.strictEqual(f.buildfile, '/r/BUILD.gn');
});

test('a word on stderr, a relative buildfile, no finished, an error line: refused', async () => {
  const cases = [
    [`console.error('note: cache cold'); console.log(${JSON.stringify(FINISHED)});`, /Project discovery failed: note: cache cold" \(from stderr\)/],
    [`console.log('{"kind":"finished","buildfile":"BUILD.gn","project":{"crates":[]}}');`, /not absolute/],
    ['console.log(\'{"kind":"progress","message":"m"}\');', /0 finished messages/],
    [`console.log('{"kind":"error","error":"no root"}');`, /Project discovery failed: no root/],
    [`console.log(${JSON.stringify(FINISHED)}); process.exit(1);`, /the discover command failed/],
  ];
  for (const [script, re] of cases) await assert.rejects(discoverFinished(nodeDc(script), { path: '/r/a.rs' }), re);
});
