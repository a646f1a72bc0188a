// The Slack emulator in a real browser: ask for a question, answer it in the DM, and find
// the answer on the member's profile.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { BASE_URL, demo, launchBrowser, openHydrated, waitForApp } from '../browser.mjs';

let browser;
let page;

before(async () => {
  await waitForApp();
  browser = await launchBrowser();
  page = await browser.newPage();
});

after(async () => {
  await browser?.close();
});

const member = demo.members[3];
const answer = `Browser-tested answer ${Date.now()}: a long walk along the river`;

test('a member answers a question in /emulator and it shows on their profile', async () => {
  await page.goto(`${BASE_URL}/emulator?as=${member.slack_user_id}`);
  await page.getByLabel('Slash command').fill('ask');
  await page.getByRole('button', { name: 'Run' }).click();
  await page.waitForURL(/\/emulator\?as=/);
  const dm = page.locator('section.dm');
  await dm.getByRole('button', { name: 'Answer' }).waitFor();
  assert.match(await dm.innerText(), /Today's question/);

  await page.getByLabel('Message Rapport').fill(answer);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/emulator\?as=/);
  await dm.getByText(/Thanks! Your answer/).waitFor();
  assert.match(await page.locator('section.channel').innerText(), new RegExp(answer));

  await openHydrated(page, '/people');
  await page.locator('.person-card', { hasText: member.name }).locator('a.person-link').click();
  await page.waitForSelector('.profile-header');
  assert.match(await page.locator('.answers').innerText(), new RegExp(answer));
});
