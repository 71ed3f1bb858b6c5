/**
 * The HTML report in a real browser (headless Chromium): every chart drew, the series names and
 * values are on the page, no console error, nothing fetched from the network. The screenshot is
 * kept in test-artifacts/ (and, with PMTA_BOUNCE_README_SCREENSHOT=1, refreshed in docs/images/).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium } from '#test/support/chromium.ts';
import { trafficScenario } from '#test/support/traffic-scenario.ts';

/** The slice of the DOM canvas the pixel check uses (the project's tsconfig has no DOM lib). */
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/pmta-bounce.js');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const missing = chromiumMissing();
// CI installs chromium (.ci/run): there the browser test must run, never skip.
if (missing && process.env.CI) throw new Error(missing);

function cli(args: string[]): void {
  const run = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PMTA_BOUNCE_CONFIG: '' },
  });
  if (run.status !== 0) throw new Error(`pmta-bounce ${args[0]} exited ${run.status}: ${run.stderr}`);
}

describe.skipIf(Boolean(missing))('HTML report in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pmta-report-html-'));
  const html = join(dir, 'report.html');
  let browser: Browser;

  beforeAll(async () => {
    writeFileSync(join(dir, 'acct.csv'), trafficScenario().csv);
    cli(['process', join(dir, 'acct.csv'), '--state', join(dir, 'state.db')]);
    cli(['report', '--state', join(dir, 'state.db'), '--html', html]);
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    { width: 1100, name: 'desktop' },
    { width: 390, name: 'phone' },
  ])('draws every chart on a $name screen with no console error and no request', async ({ width, name }) => {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
    });
    await page.goto(pathToFileURL(html).href);

    for (const id of ['chart-complaint-rate', 'chart-bounces', 'chart-blocks']) {
      const canvas = page.locator(`#${id} canvas`);
      await expect(canvas.count()).resolves.toBe(1);
      // A drawn canvas has non-blank pixels.
      const inked = await canvas.evaluate((c: CanvasLike) => {
        const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
        return n;
      });
      expect(inked, id).toBeGreaterThan(500);
    }
    // The data each chart drew: x = hours 08:00, 09:00, 10:00 UTC of the scenario's day.
    const drawn = (await page.evaluate('window.__charts')) as Array<{
      id: string;
      data: Array<Array<number | null>>;
    }>;
    const byId = Object.fromEntries(drawn.map((c) => [c.id, c.data]));
    const hours = [8, 9, 10].map((h) => Date.UTC(2026, 10, 20, h) / 1000);
    expect(byId['chart-bounces']).toEqual([hours, [30, 0, 0], [12, 0, 0], [0, 0, 40], [0, 11, 0]]);
    expect(byId['chart-blocks']).toEqual([hours, [0, 0, 40]]);
    expect(byId['chart-complaint-rate']?.slice(1, 4)).toEqual([[4 / 2020], [0.005], [0]]);
    const series = (id: string) => page.locator(`#${id}`).getAttribute('data-series');
    expect(await series('chart-complaint-rate')).toBe(
      'news.example.com|shop.example.com|mail.example.net|warn 0.10 %|critical 0.30 %',
    );
    expect(await series('chart-bounces')).toBe('hard bounces|soft bounces|sender-side blocks|complaints');
    expect(await series('chart-blocks')).toBe('gmail via vmta-burst');
    // uPlot's legend shows the series names; the tables and bars carry the values.
    await expect(page.locator('#chart-complaint-rate .u-legend').innerText()).resolves.toContain(
      'shop.example.com',
    );
    const shop = page.locator('#table-sending-domains tr', { hasText: 'shop.example.com' });
    await expect(shop.innerText()).resolves.toMatch(/1000\s+10\s+4\s+0\s+5\s+0\.50 %\s+0\.00 %\s+critical/);
    await expect(page.locator('.trips li').count()).resolves.toBe(3);

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, `report-${name}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.PMTA_BOUNCE_README_SCREENSHOT && name === 'desktop')
      copyFileSync(shot, join(ROOT, 'docs/images/report.png'));
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });
});
