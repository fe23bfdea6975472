/**
 * Debian's headless chromium, for checking pages our servers serve. Each run gets a fresh
 * profile directory and the flags that keep chromium from calling anything but the given URL
 * (no sync, no component updates, no background networking, no QUIC).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.PORTICO_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** A cold headless chromium renders a small page in ~1–3 s; 45 s only matters on a starved CI box. */
const RUN_TIMEOUT_MS = 45_000;
/** Virtual time the page gets to run its scripts (one fetch and a render), ms. */
export const VIRTUAL_TIME_BUDGET_MS = 3_000;

function run(args: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'portico-chromium-'));
  const flags = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    `--virtual-time-budget=${VIRTUAL_TIME_BUDGET_MS}`,
  ];
  return new Promise<string>((resolve, reject) => {
    execFile(CHROMIUM, [...flags, ...args], { timeout: RUN_TIMEOUT_MS, maxBuffer: 16 * 1_048_576 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr.slice(-2_000)}`));
      else resolve(stdout);
    });
  });
}

/** The DOM after the page's scripts ran for the virtual time budget. */
export function dumpDom(url: string): Promise<string> {
  return run(['--dump-dom', url]);
}

/** Saves a PNG of the page (default 1200×800) after its scripts ran. */
export async function screenshot(url: string, file: string, size: { width: number; height: number } = { width: 1_200, height: 800 }): Promise<void> {
  await run([`--screenshot=${file}`, `--window-size=${size.width},${size.height}`, '--hide-scrollbars', url]);
}
