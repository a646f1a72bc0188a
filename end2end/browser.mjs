// Shared set-up for the browser tests: waits for the app, launches Debian's Chromium
// through playwright-core (no browser download), and reads the demo content the app seeds.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const BASE_URL = process.env.RAPPORT_E2E_BASE_URL ?? 'http://127.0.0.1:3000';

/** The demo workspace the app seeds on an empty database (see server/src/demo). */
export const demo = JSON.parse(
  readFileSync(new URL('../server/src/demo/content.json', import.meta.url), 'utf8'),
);

/** cargo leptos end-to-end starts the server and the tests together: wait until it answers. */
export async function waitForApp(timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${BASE_URL}/readyz`);
      if (response.ok) return;
      lastError = new Error(`readyz answered ${response.status}: ${await response.text()}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the app at ${BASE_URL} did not become ready: ${lastError}`);
}

/**
 * Chromium as the machines here need it (root, closed network, no GPU). playwright-core
 * gives every launch a fresh, empty profile directory of its own.
 */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
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

/**
 * Opens `path` and waits until the wasm bundle has hydrated the page. When it never does,
 * the error says what the page's console and failed requests said (a policy violation, a
 * panic, a chunk that did not load), so a failure in CI can be read without a rerun.
 */
export async function openHydrated(page, path) {
  const heard = [];
  const onConsole = (message) => {
    if (message.type() === 'error' || message.type() === 'warning') heard.push(`console ${message.type()}: ${message.text()}`);
  };
  const onError = (error) => heard.push(`page error: ${error}`);
  const onFailed = (request) => heard.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`);
  page.on('console', onConsole);
  page.on('pageerror', onError);
  page.on('requestfailed', onFailed);
  try {
    await page.goto(`${BASE_URL}${path}`);
    await hydrated(page);
  } catch (error) {
    error.message += `\n${path} did not hydrate; the page said:\n${heard.join('\n') || '(nothing)'}`;
    throw error;
  } finally {
    page.off('console', onConsole);
    page.off('pageerror', onError);
    page.off('requestfailed', onFailed);
  }
}

/** Waits until the page in `page` has hydrated, its own lazily loaded code included. */
async function hydrated(page) {
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 30_000 });
  // A page's code arrives in a chunk of its own and takes over after the app: until then a
  // click on Save would post its form as plain HTML.
  if ((await page.locator('.lazy-page').count()) > 0) {
    await page.waitForSelector('.lazy-page[data-hydrated="true"]', { state: 'attached', timeout: 30_000 });
  }
}

/** A new browser window of its own (its own cookies), signed in as `who` through Sign in with Slack. */
export async function signInThroughSlack(browser, who) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await openHydrated(page, '/login');
  await page.getByRole('link', { name: 'Sign in with Slack' }).click();
  await page.getByRole('link', { name: who.name }).click();
  await page.waitForURL(`${BASE_URL}/me`);
  // Hydrated before it is handed over, so nothing the landing page still fetches is taken
  // for something the caller did next.
  await hydrated(page);
  return page;
}
