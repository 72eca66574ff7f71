import { defineConfig } from 'vitest/config';

// The whole-stack files each start the distributed mode (Mosquitto, PostgreSQL, InfluxDB, nginx
// and nine or more Node processes); two of them at once on this 2-core box starve each other's
// readiness probes. They run alone, one after another, once every other file is done.
const WHOLE_STACK = ['distributed/test/launcher.test.ts', 'distributed/test/faults-smoke.test.ts', 'distributed/test/soak-smoke.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        // Most files wait on servers, sockets and timers rather than the CPU: vitest's default
        // (availableParallelism() - 1 = 1 worker here) ran them one at a time. Every test takes
        // port 0 and its own temporary directory, so several files can share the machine.
        test: { name: 'files', include: ['*/test/**/*.test.ts'], exclude: WHOLE_STACK, maxWorkers: 3, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'whole-stack', include: WHOLE_STACK, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
