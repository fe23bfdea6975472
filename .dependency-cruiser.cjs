// The layering of src/, enforced in `npm run check` (see docs/architecture.md, "Layers").
// From the bottom up:
//   foundation  errors/, logging/index.ts, runtime/, request/ (state, correlation, signal) — pure or types
//   config      config/ — reads the environment once; may use concerns' pure parsers
//   concerns    cors/ auth/ authorization/ hardening/ rateLimit/ redis/ resilience/ degradation/
//               subgraphs/ supergraph/ introspection/ trustedDocuments/ planning/ health/
//               cache/ controlPlane/ overload/ tracing/ probes/
//   observation metrics/, logging/access.ts
//   edge        http/, request/lifecycle.ts, ops/
//   wiring      server.ts, lane.ts, main.ts
// A layer imports only layers below it (and itself). The rules below say it as "never upward".
const FOUNDATION = '^src/(errors/|runtime/|logging/index\\.ts$|request/(state|correlation|context|signal)\\.ts$)';
const CONFIG = '^src/config/';
const CONCERNS = '^src/(cors|auth|authorization|hardening|rateLimit|redis|resilience|degradation|subgraphs|supergraph|introspection|trustedDocuments|planning|execution|health|cache|controlPlane|overload|tracing|probes)/';
const OBSERVATION = '^src/(metrics/|logging/access\\.ts$)';
const EDGE = '^src/(http/|ops/|request/lifecycle\\.ts$)';
const WIRING = '^src/(server|lane|main)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle (type-only ones too) means two modules are one idea split badly, or a type sits in the wrong module.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-not-to-dev-tooling',
      severity: 'error',
      comment: 'The product never depends on its tests, benchmarks, scripts, dev tooling or demo mocks.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts|devkit|subgraphs-mock)/' },
    },
    {
      name: 'nothing-imports-wiring',
      severity: 'error',
      comment: 'server.ts (the instance), lane.ts (one gateway and its plugins) and main.ts (the process) wire the parts together; no part may depend on the wiring, only the wiring on itself.',
      from: { path: '^src/', pathNot: WIRING },
      to: { path: WIRING },
    },
    {
      name: 'foundation-stays-low',
      severity: 'error',
      comment: 'Errors, logging, request state and runtime shims are imported by everything, so they import nothing above them.',
      from: { path: FOUNDATION },
      to: { path: '^src/', pathNot: [FOUNDATION, '^src/auth/principal\\.ts$', '^src/degradation/types\\.ts$'] },
    },
    {
      name: 'config-not-upward',
      severity: 'error',
      comment: 'Config may use a concern\'s pure parser or defaults, never the observation, edge or wiring layers.',
      from: { path: CONFIG },
      to: { path: [OBSERVATION, EDGE, WIRING] },
    },
    {
      name: 'concerns-not-upward',
      severity: 'error',
      comment: 'A concern reports through the hooks and observers it is given; it never imports metrics, the HTTP edge, ops or the wiring.',
      from: { path: CONCERNS },
      to: { path: [OBSERVATION, EDGE, WIRING, '^src/config/(?!types\\.ts$)'] },
    },
    {
      name: 'observation-not-upward',
      severity: 'error',
      comment: 'Metrics and the access log observe concerns; the edge and ops call them, not the other way round.',
      from: { path: OBSERVATION },
      to: { path: [EDGE, WIRING] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
