import { MemorySuppressionStore } from '#test/support/memory-suppression-store.ts';
import { describeSuppressionStoreContract } from './suppression-store-contract.ts';

// The in-memory fake is held to the same contract, so tests using it cannot drift from the adapters.
describeSuppressionStoreContract('memory', async (now) =>
  Object.assign(new MemorySuppressionStore(), { now }),
);
