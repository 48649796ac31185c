// The rust-analyzer settings that route discovery through projmodel. Pure functions, so they can
// be tested without VS Code.
'use strict';

// Build files per build system: rust-analyzer matches these by file name (not glob) and re-runs
// discovery with {"buildfile": ...} when one changes (docs/protocol.md, the discover protocol).
const FILES_TO_WATCH = {
  gn: ['BUILD.gn', '.gn'],
  bazel: ['BUILD', 'BUILD.bazel', 'MODULE.bazel', 'WORKSPACE', 'WORKSPACE.bazel'],
  buck2: ['BUCK', 'TARGETS'],
  cargo: ['Cargo.toml'],
};

const MARKERS = [
  ['.gn', 'gn'],
  ['MODULE.bazel', 'bazel'],
  ['WORKSPACE', 'bazel'],
  ['WORKSPACE.bazel', 'bazel'],
  ['.buckconfig', 'buck2'],
  ['Cargo.toml', 'cargo'],
];

// Build systems present, from the file names at the workspace root and .projmodel.json (parsed).
function detectBuildSystems(rootFileNames, projmodelConfig) {
  const found = new Set();
  if (projmodelConfig && typeof projmodelConfig.build_system === 'string') {
    found.add(projmodelConfig.build_system);
  }
  for (const sub of (projmodelConfig && projmodelConfig.subprojects) || []) {
    if (sub && typeof sub.build_system === 'string') found.add(sub.build_system);
  }
  if (found.size === 0) {
    for (const [marker, system] of MARKERS) {
      if (rootFileNames.includes(marker)) {
        found.add(system);
        break;
      }
    }
  }
  return [...found];
}

// The value for rust-analyzer.workspace.discoverConfig. All three keys are required by
// rust-analyzer; "{arg}" must be a whole argv element.
function discoverConfig(projmodelPath, buildSystems) {
  const watch = new Set();
  for (const system of buildSystems) {
    for (const name of FILES_TO_WATCH[system] || []) watch.add(name);
  }
  return {
    command: [projmodelPath || 'projmodel', 'discover', '{arg}'],
    progressLabel: 'projmodel',
    filesToWatch: [...watch],
  };
}

module.exports = { FILES_TO_WATCH, detectBuildSystems, discoverConfig };
