/**
 * Debian's Chromium driven by playwright-core (browsers cannot be downloaded here; .ci/run installs
 * the `chromium` package). Flags keep it off the network: no background services, no QUIC.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

const CHROMIUM_PATH = process.env.PMTA_BOUNCE_CHROMIUM ?? '/usr/bin/chromium';

function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium)`;
}

function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export { CHROMIUM_PATH, chromiumMissing, launchChromium };
