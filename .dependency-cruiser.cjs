/**
 * The layer rule of Berth (ARCHITECTURE.md, COMMON rules), checked by `npm run lint:layers`
 * and by scripts/layers.test.ts in the test run. Paths are relative to the repository root.
 * Type-only imports count: a layer that names another's types depends on it.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'api-imports-api-and-lib',
      comment: 'api/ is the HTTP edge: it speaks to the engine through api/backend.ts interfaces, and imports only api/, lib/ and (type-only) domain types.',
      severity: 'error',
      from: { path: '^src/api/' },
      to: { path: '^src/', pathNot: ['^src/api/', '^src/lib/'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'only-the-entry-point-imports-daemon',
      comment: 'src/daemon/ is the one composition root: nothing outside it imports it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/daemon/' },
      to: { path: '^src/daemon/' },
    },
    {
      name: 'engine-does-not-import-api-or-cli',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: '^src/(api|cli)/' },
    },
    {
      name: 'lower-layers-do-not-import-engine',
      comment: 'network/, runtime/, core/, distribution/ and platform/ are callees of the engine.',
      severity: 'error',
      from: { path: '^src/(network|runtime|core|distribution|platform)/' },
      to: { path: '^src/engine/' },
    },
    {
      name: 'build-does-not-import-api',
      severity: 'error',
      from: { path: '^src/build/' },
      to: { path: '^src/api/' },
    },
    {
      name: 'clients-do-not-import-engine-or-daemon',
      comment: 'cli/, compose/ and machine/ talk to berthd over its API (src/client/).',
      severity: 'error',
      from: { path: '^src/(cli|compose|machine)/' },
      to: { path: '^src/(engine|daemon)/' },
    },
    {
      name: 'registry-server-does-not-import-engine',
      severity: 'error',
      from: { path: '^src/registry/' },
      to: { path: '^src/engine/' },
    },
    {
      name: 'only-platform-spawns',
      comment: 'Every system tool runs through src/platform (Spawner). Tests may spawn to check results.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/platform/', '[.]test[.]ts$'] },
      to: { dependencyTypes: ['core'], path: '^(node:)?child_process$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
