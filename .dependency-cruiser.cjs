/**
 * The dependency rules of DESIGN.md, enforced in CI (`npm run deps:check`).
 * If a change wants to break one, the design is wrong somewhere: fix the design and update
 * docs/architecture.md rather than this file.
 */
const API_ENTRIES = '^src/(api/server|local)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles make start-up order and reasoning fragile.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'events-are-contracts-only',
      severity: 'error',
      comment: 'src/events holds contracts shared by both sides and imports no domain code.',
      from: { path: '^src/events/' },
      to: { path: '^src/(commands|queries|workers|api|policies|platform)/' },
    },
    {
      name: 'platform-knows-no-domain',
      severity: 'error',
      comment: 'src/platform is infrastructure: it imports no domain code.',
      from: { path: '^src/platform/' },
      to: { path: '^src/(commands|queries|workers|api|policies|events)/' },
    },
    {
      name: 'commands-stay-on-the-write-side',
      severity: 'error',
      comment: 'The write side never imports the read side, the HTTP edge or the workers.',
      from: { path: '^src/commands/' },
      to: { path: '^src/(queries|api|workers)/' },
    },
    {
      name: 'queries-stay-on-the-read-side',
      severity: 'error',
      comment: 'The read side never imports the write side, the HTTP edge or the workers.',
      from: { path: '^src/queries/' },
      to: { path: '^src/(commands|api|workers)/' },
    },
    {
      name: 'policies-are-pure',
      severity: 'error',
      comment: 'Abilities depend only on the principal and platform errors.',
      from: { path: '^src/policies/' },
      to: { path: '^src/(commands|queries|workers|api)/' },
    },
    {
      name: 'only-entries-import-the-api',
      severity: 'error',
      comment: 'Nothing imports src/api except its entries (the API server and the local all-in-one).',
      from: { path: '^src/', pathNot: ['^src/api/', API_ENTRIES] },
      to: { path: '^src/api/' },
    },
    {
      name: 'only-entries-import-the-composition-root',
      severity: 'error',
      comment:
        'The layers receive named dependencies; only process entries (and the API, which is one) build or name the services bag.',
      from: { path: '^src/(commands|queries|workers|events|policies|platform)/', pathNot: '^src/workers/main\\.ts$' },
      to: { path: '^src/composition-root\\.ts$' },
    },
    {
      name: 'the-relay-reads-only-the-log',
      severity: 'error',
      comment:
        'The outbox relay takes the row, its mapping and the wake-up channel from src/events/event-log.ts, never from the write or read side.',
      from: { path: '^src/workers/relay/' },
      to: { path: '^src/(commands|queries|api|policies)/' },
    },
    {
      name: 'no-test-code-in-src',
      severity: 'error',
      from: { path: '^(src|migrations)/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/api/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
