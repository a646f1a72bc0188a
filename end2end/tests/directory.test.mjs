// The directory and profile pages in a real browser, against the built app and its demo data.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { BASE_URL, demo, launchBrowser, openHydrated, waitForApp } from '../browser.mjs';

let browser;
let page;
const browserErrors = [];

before(async () => {
  await waitForApp();
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on('pageerror', (error) => browserErrors.push(error.message));
  // Whatever the Content-Security-Policy refuses (a script, a style sheet, a connection) is
  // reported on the console; the app's pages must need nothing it refuses.
  page.on('console', (message) => {
    if (message.type() === 'error' && message.text().includes('Content Security Policy')) {
      browserErrors.push(message.text());
    }
  });
});

after(async () => {
  await browser?.close();
});

const pinnedMember = demo.members.find((m) => m.slack_user_id === demo.pinned[0].slack_user_id);
const pinnedTeam = demo.pinned.filter((p) => p.visibility === 'team');
const pinnedOnlyMe = demo.pinned.filter((p) => p.visibility === 'only_me');

test('the directory lists the whole demo team', async () => {
  await openHydrated(page, '/people');
  const cards = page.locator('.person-card');
  assert.equal(await cards.count(), demo.members.length);
  assert.deepEqual(browserErrors, []);
});

test('typing in the filter narrows the list without a reload, and the address follows', async () => {
  await openHydrated(page, '/people');
  // A reload would lose this mark; the page's own navigation keeps it.
  await page.evaluate(() => { window.__sameDocument = true; });
  const firstName = pinnedMember.name.split(' ')[0];

  await page.locator('input.filter').pressSequentially(firstName.toLowerCase(), { delay: 20 });

  const cards = page.locator('.person-card');
  await page.waitForFunction(() => document.querySelectorAll('.person-card').length === 1);
  assert.equal(await cards.count(), 1);
  assert.match(await cards.first().innerText(), new RegExp(pinnedMember.name));
  assert.match(await page.locator('.count').innerText(), new RegExp(`1 of ${demo.members.length} people`));
  await page.waitForURL(`**/people?q=${firstName.toLowerCase()}`);

  await page.locator('input.filter').fill('zzzz-nobody');
  await page.waitForFunction(() => document.querySelectorAll('.person-card').length === 0);
  assert.match(await page.locator('.empty').innerText(), /No one matches/);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'filtering must not reload the page');
  assert.deepEqual(browserErrors, []);
});

test('the filter works before the script runs, as a plain form', async () => {
  const plain = await browser.newContext({ javaScriptEnabled: false });
  const noScript = await plain.newPage();
  try {
    const firstName = pinnedMember.name.split(' ')[0];
    await noScript.goto(`${BASE_URL}/people?q=${encodeURIComponent(firstName)}`);
    assert.equal(await noScript.locator('.person-card').count(), 1);
    assert.equal(await noScript.locator('input.filter').inputValue(), firstName);
  } finally {
    await plain.close();
  }
});

test('clicking a person opens their profile with their answers', async () => {
  await openHydrated(page, '/people');
  await page.locator('.person-card', { hasText: pinnedMember.name }).locator('a.person-link').click();

  await page.waitForURL(/\/people\/[0-9a-f-]+$/);
  await page.waitForSelector('.profile-header');
  assert.equal(await page.locator('h1').innerText(), pinnedMember.name);
  const answers = await page.locator('.answers').innerText();
  for (const pinned of pinnedTeam) {
    assert.ok(answers.includes(pinned.text), `team answer shown: ${pinned.text}`);
    assert.ok(answers.includes(pinned.question), `its question shown: ${pinned.question}`);
  }
});

test('an only-me answer is on no page', async () => {
  await openHydrated(page, '/people');
  await page.locator('.person-card', { hasText: pinnedMember.name }).locator('a.person-link').click();
  await page.waitForSelector('.profile-header');
  const profile = await page.content();
  await openHydrated(page, '/people');
  const directory = await page.content();

  for (const secret of pinnedOnlyMe) {
    assert.ok(!profile.includes(secret.text), 'only-me answer on the profile');
    assert.ok(!directory.includes(secret.text), 'only-me answer in the directory');
  }

  await openHydrated(page, '/questions');
  for (const secret of pinnedOnlyMe) {
    await page.locator('a.question-link', { hasText: secret.question }).click();
    await page.waitForSelector('.question-heading');
    assert.equal(await page.locator('.question-heading').innerText(), secret.question);
    assert.ok(!(await page.content()).includes(secret.text), 'only-me answer on the question page');
  }
  assert.deepEqual(browserErrors, []);
});
