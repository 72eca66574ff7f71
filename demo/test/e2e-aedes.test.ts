import { describe, it } from 'vitest';
import { flyOneDelivery } from './e2e-loop.js';

describe('end to end on the embedded aedes broker', () => {
  it('a simulated drone flies a delivery Requested → … → Completed', async () => {
    await flyOneDelivery({ kind: 'embedded' });
  }, 120_000);
});
