/** Bounded waiting for tests and benchmarks: every wait has a deadline. */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls every `everyMs` (100) for at most `ms`; returns whether the check passed. */
async function waitFor(check: () => boolean | Promise<boolean>, ms: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return false;
}

export { sleep, waitFor };
