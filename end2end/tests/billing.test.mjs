// Billing in a real browser, against the Stripe emulator the demo runs: an admin upgrades
// through the emulator's checkout, cancels in its portal, the plan ends (the emulator's test
// clock), the banner says questions stopped, and paying again takes the banner away. It runs
// first (files run one at a time, in name order) and leaves the demo team subscribed, so the
// other files' questions still go out.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { BASE_URL, demo, launchBrowser, openHydrated, signInThroughSlack, waitForApp } from '../browser.mjs';

let browser;

before(async () => {
  await waitForApp();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

const admin = demo.members.find((member) => member.is_admin);

/** Reloads /admin/billing until `check` holds: webhooks are processed just after they arrive. */
async function billingPageUntil(page, what, check) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    await openHydrated(page, '/admin/billing');
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`/admin/billing never showed ${what}: ${await page.locator('main').innerText()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Upgrade, then pay on the emulator's checkout page with the card that succeeds. */
async function upgrade(page) {
  await page.getByRole('button', { name: 'Upgrade' }).click();
  await page.waitForURL(/\/stripe-emulator\/checkout\//);
  await page.getByLabel(/4242 4242 4242 4242/).check();
  await page.getByRole('button', { name: 'Subscribe' }).click();
  await page.waitForURL(/\/admin\/billing\?checkout=done/);
}

const standing = (page) => page.locator('.billing-standing').innerText();

test('an admin upgrades through the checkout, lapses when the plan ends, and paying again takes the banner away', async () => {
  const page = await signInThroughSlack(browser, admin);
  await openHydrated(page, '/admin/billing');
  assert.match(await standing(page), /Free trial: \d+ days left/);

  await upgrade(page);
  await billingPageUntil(page, 'the subscription', async () => /Subscribed/.test(await standing(page)));

  // Manage: the portal cancels the plan at the end of its period.
  await page.getByRole('button', { name: 'Manage' }).click();
  await page.waitForURL(/\/stripe-emulator\/portal\//);
  await page.getByRole('button', { name: 'Cancel plan' }).click();
  await page.waitForURL(/\/stripe-emulator\/portal\//);
  await billingPageUntil(page, 'the cancellation', async () => /cancelled/.test(await standing(page)));
  assert.equal(await page.locator('.billing-banner').count(), 0, 'no banner while the plan runs');

  // The emulator's test clock ends the period: the plan ends and questions stop.
  await page.goto(`${BASE_URL}/stripe-emulator`);
  await page.getByRole('button', { name: 'End the period now' }).first().click();
  await page.waitForURL(/\/stripe-emulator\?done=period-ended/);
  await billingPageUntil(page, 'the banner', async () => (await page.locator('.billing-banner').count()) === 1);
  assert.match(await page.locator('.billing-banner').innerText(), /subscription has ended.*Questions are paused/s);
  await openHydrated(page, '/people');
  assert.equal(await page.locator('.billing-banner').count(), 1, 'the banner is on every page for an admin');

  // Paying again: the banner goes away.
  await openHydrated(page, '/admin/billing');
  await upgrade(page);
  await billingPageUntil(page, 'the new subscription', async () => /Subscribed/.test(await standing(page)));
  assert.equal(await page.locator('.billing-banner').count(), 0, 'the banner is gone');
  await page.context().close();
});
