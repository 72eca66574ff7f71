import { MemoryDeliveryRepository } from '../src/index.js';
import { MemoryWorkflowStore } from '../src/workflow/memory-store.js';
import { workflowSuite } from './workflow-suite.js';

// Memory: "the same database" after a restart is the same objects, with close() a no-op.
workflowSuite('memory', () => {
  const deliveries = new MemoryDeliveryRepository();
  const store = new MemoryWorkflowStore();
  return Promise.resolve({ open: () => Promise.resolve({ deliveries, store }), dispose: () => Promise.resolve() });
});
