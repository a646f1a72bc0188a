// Discovery in a real browser: search finds a coworker's answer while the words are typed,
// and the insights page's participation chart says the same numbers as its table.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { demo, launchBrowser, openHydrated, signInThroughSlack, waitForApp } from '../browser.mjs';

let browser;

before(async () => {
  await waitForApp();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

const admin = demo.members.find((member) => member.is_admin);
const searcher = demo.members[5];

test("search finds a coworker's answer as you type", async () => {
  const page = await signInThroughSlack(browser, searcher);
  const pinned = demo.pinned.find((p) => p.visibility === 'team' && p.slack_user_id !== searcher.slack_user_id);
  const author = demo.members.find((member) => member.slack_user_id === pinned.slack_user_id);
  // The longest word of the answer: distinctive enough to find it among the team's.
  const word = pinned.text.split(/[^\p{L}\p{N}]+/u).sort((a, b) => b.length - a.length)[0];

  await openHydrated(page, '/search');
  const navigations = [];
  page.on('framenavigated', (frame) => navigations.push(frame.url()));
  await page.locator('#search-page-q').pressSequentially(word.toLowerCase(), { delay: 30 });

  const answers = page.locator('.search-group', { has: page.locator('#search-answers') });
  await answers.getByText(author.name).first().waitFor({ timeout: 10_000 });
  assert.match(await answers.innerText(), new RegExp(word, 'i'));
  assert.ok(await answers.locator('mark').count() > 0, 'the matching word is marked');
  assert.match(page.url(), new RegExp(`q=${encodeURIComponent(word.toLowerCase())}`), 'the address follows the query');
  assert.ok(navigations.every((url) => url.includes('/search')), 'results came without leaving the page');
  await page.context().close();
});

test('the participation chart and its table show the same numbers', async () => {
  const page = await signInThroughSlack(browser, admin);
  await openHydrated(page, '/admin/insights?weeks=12');
  const section = page.locator('section', { has: page.locator('#participation-heading') });
  const description = await section.locator('svg desc').textContent();
  const [, asked, answered] = description.match(/(\d+) asked, (\d+) answered/);

  const rows = await section.locator('table tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td, th')].map((cell) => cell.textContent.trim())),
  );
  const column = (index) => rows.reduce((sum, row) => sum + Number(row[index]), 0);
  assert.equal(column(1), Number(asked), 'asked: chart and table agree');
  assert.equal(column(2), Number(answered), 'answered: chart and table agree');
  assert.ok(Number(asked) > 0, 'the demo team was asked questions in the last 12 weeks');
  await page.context().close();
});
