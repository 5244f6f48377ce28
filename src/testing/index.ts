export { setupTestTracing, type TestTracing, type TestTracingOptions } from './test-tracing.js';
export { renderTraceTree } from './trace-tree.js';
export { captureDiagWarnings, type DiagWarnings } from './diag-warnings.js';
