import { defineConfig } from 'vitest/config';
import { TEST_CANARY } from './scripts/scan-canary.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores here: keep workers low so emulator-backed suites do not starve each other.
    maxWorkers: 2,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      NO_COLOR: '1',
      // The fake credential the security tests put in every credential slot; CI scans all test
      // output for it (scripts/scan-canary.ts).
      PMTA_BOUNCE_TEST_CANARY: TEST_CANARY,
    },
  },
});
