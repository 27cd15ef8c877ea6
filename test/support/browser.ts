/**
 * Headless Chromium for the browser tests: Debian's `chromium` package driven by playwright-core
 * (which downloads no browser of its own). `.ci/run` installs the package; elsewhere the tests skip
 * without it, saying why.
 */
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** The browser binary: `NODEPOOL_TS_CHROMIUM`, else Debian's. */
export const CHROMIUM_PATH = process.env.NODEPOOL_TS_CHROMIUM || '/usr/bin/chromium';

/** Why no browser test can run here, or undefined when Chromium is installed. */
export function browserMissing(): string | undefined {
  return fs.existsSync(CHROMIUM_PATH) ? undefined : `no Chromium at ${CHROMIUM_PATH} (Debian package chromium; or set NODEPOOL_TS_CHROMIUM)`;
}

/**
 * Starts Chromium headless. No sandbox (the suite runs as root in CI, where Chromium refuses to
 * start with one) and no background networking: the machine has no outbound network, and the
 * pages under test load only from 127.0.0.1.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    chromiumSandbox: false,
    timeout: 20000,
    args: ['--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}
