import { MemoryListProvider } from '#test/support/memory-list-provider.ts';
import { type ContractFixture, describeListProviderContract } from './list-provider-contract.ts';

function memoryFixture(): ContractFixture {
  const memory = new MemoryListProvider();
  let lists = 0;
  return {
    provider: (_deps, options = {}) => {
      memory.credentialsValid = !options.badCredentials;
      return memory;
    },
    seed: (email, count) =>
      Array.from({ length: count }, () => memory.addSubscriber(`list${++lists}`, email)),
    unknownRef: () => ({ providerType: memory.type, listId: 'list-none', subscriberId: 's-none' }),
    isActive: (ref) => memory.isActive(ref),
    changesOf: (ref) => memory.subscription(ref)?.changes ?? 0,
    effects: () => memory.effects(),
    mutatingRequests: () => memory.effects(),
    secrets: [],
    close: async () => {},
  };
}

describeListProviderContract(
  'MemoryListProvider',
  { transport: false, reportsLists: true, readsBeforeWrite: true },
  memoryFixture,
);
