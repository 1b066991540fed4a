import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Debian's chromium (apt package `chromium`, installed by scripts/setup.sh); `HAFENCE_CHROMIUM` overrides. */
export const CHROMIUM = process.env.HAFENCE_CHROMIUM ?? '/usr/bin/chromium';

/** Starts headless chromium; fails (never skips) when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: run npm run setup (apt package chromium)`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/**
 * What went wrong in a page: uncaught errors, console errors (CSP violations among them),
 * except the browser's own request of `/favicon.ico` (the page has none).
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${String(e)}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url?.endsWith('/favicon.ico'))
      errors.push(`console: ${m.text()} (${m.location().url ?? '?'})`);
  });
  return errors;
}
