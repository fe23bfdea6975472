/** Public API of the mock subgraphs: start them, steer their faults, read their stats. */
export { startMock, startAllMocks, subgraphUrlOverrides, DEFAULT_MOCK_HOST, MAX_BODY_BYTES } from './server.ts';
export type { StartMockOptions, StartAllMocksOptions, RunningMock, RunningMocks } from './server.ts';
export { MOCK_NAMES, DEFAULT_MOCK_PORTS, loadTypeDefs } from './subgraph.ts';
export type { MockName, MockSubgraph, MockSubgraphInstance, MockRequestInfo } from './subgraph.ts';
export { MOCK_SUBGRAPHS } from './registry.ts';
export {
  FaultSwitch,
  FaultInputError,
  DEFAULT_FAULTS,
  FAULT_MODES,
  MAX_LATENCY_MS,
  faultsEnvVar,
  faultsFromEnv,
  parseFaultInput,
} from './faults.ts';
export type { FaultMode, FaultState, FaultAction } from './faults.ts';
export { StatsRecorder, RECENT_HEADERS_LIMIT } from './stats.ts';
export type { MockStats } from './stats.ts';
export { AUTHOR_HEADER, ANONYMOUS_AUTHOR, MAX_REVIEW_BODY_CHARS } from './review.ts';
export {
  buildCatalog,
  catalog,
  mulberry32,
  DATA_SEED,
  PRODUCT_COUNT,
  MAX_PRODUCT_COUNT,
  useCatalogSize,
  CATEGORIES,
  WAREHOUSES,
  CURRENCY,
  MIN_REVIEWS_PER_PRODUCT,
  MAX_REVIEWS_PER_PRODUCT,
} from './data.ts';
export type { Catalog, ProductRecord, PriceRecord, MoneyRecord, InventoryRecord, ReviewRecord } from './data.ts';
