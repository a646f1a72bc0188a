// Signed in, in a real browser: an admin signs in through the emulator's Sign in with Slack
// and sets the workspace up; a member's answer arrives on their profile, they make it private
// on /me and a coworker no longer sees it; "forget me" removes them everywhere. Every page
// is checked with axe-core, signed out and signed in.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';

import { BASE_URL, demo, launchBrowser, openHydrated, signInThroughSlack, waitForApp } from '../browser.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
// The pages' Content-Security-Policy runs no inline script without the page's nonce, so
// axe-core comes in as a script of the app's own origin, which the test answers itself.
const axeUrl = `${BASE_URL}/axe-core-for-tests.js`;

let browser;

before(async () => {
  await waitForApp();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

const admin = demo.members.find((member) => member.is_admin);
const member = demo.members[6];
const coworker = demo.members[7];

/** A new browser window of its own, signed in as `who`. */
const signedInAs = (who) => signInThroughSlack(browser, who);

/** Runs axe-core on the page and fails on any violation, naming each. */
async function assertAccessible(page, label) {
  // An admin page is a lazy route: the page's title is set again once its wasm chunk has
  // loaded, which may be just after the app reports it hydrated.
  await page.waitForFunction(() => document.title.length > 0, null, { timeout: 10_000 });
  await page.route(axeUrl, (route) => route.fulfill({ contentType: 'text/javascript', body: axeSource }));
  await page.addScriptTag({ url: axeUrl });
  await page.unroute(axeUrl);
  const violations = await page.evaluate(async () => (await window.axe.run()).violations);
  const described = violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  assert.deepEqual(described, [], `${label} has accessibility violations`);
}

/** Asks a question in the emulator as `who` and answers it in the DM. */
async function answerInEmulator(page, who, answer) {
  await page.goto(`${BASE_URL}/emulator?as=${who.slack_user_id}`);
  await page.getByLabel('Slash command').fill('ask');
  await page.getByRole('button', { name: 'Run' }).click();
  await page.waitForURL(/\/emulator\?as=/);
  await page.locator('section.dm').getByRole('button', { name: 'Answer' }).last().waitFor();
  await page.getByLabel('Message Rapport').fill(answer);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/emulator\?as=/);
  await page.locator('section.dm').getByText(/Thanks! Your answer/).last().waitFor();
}

async function profileText(page, who) {
  await openHydrated(page, '/people');
  await page.locator('.person-card', { hasText: who.name }).locator('a.person-link').click();
  await page.waitForSelector('.profile-header');
  return page.locator('main').innerText();
}

test('every page signed out has no accessibility violation', async () => {
  const page = await browser.newPage();
  for (const path of ['/', '/login', '/people', '/questions']) {
    await openHydrated(page, path);
    await assertAccessible(page, path);
  }
  await page.close();
});

test('an admin signs in through Slack, picks the sharing channel, sets the schedule and turns questions on', async () => {
  const page = await signedInAs(admin);
  await openHydrated(page, '/admin/sharing');
  await page.getByLabel('Sharing channel').selectOption({ label: '#rapport-answers' });
  await page.getByLabel('As they come').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();

  await openHydrated(page, '/admin/schedule');
  await page.getByLabel('On: members are asked on schedule').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();

  await openHydrated(page, '/admin');
  const checklist = await page.locator('.checklist').innerText();
  assert.doesNotMatch(checklist, /To do/, checklist);

  for (const path of ['/me', '/admin', '/admin/sharing', '/admin/schedule', '/admin/members', '/admin/packs', '/admin/data', '/admin/billing', '/admin/insights', '/search?q=tea', '/people']) {
    await openHydrated(page, path);
    await assertAccessible(page, `${path} signed in as an admin`);
  }
  await page.context().close();
});

test('a member answers, makes the answer private on /me, and a coworker no longer sees it', async () => {
  const answer = `Private later ${Date.now()}: the lighthouse at dawn`;
  const page = await signedInAs(member);
  await answerInEmulator(page, member, answer);

  const coworkerPage = await signedInAs(coworker);
  assert.match(await profileText(coworkerPage, member), new RegExp(answer));

  await openHydrated(page, '/me');
  await assertAccessible(page, '/me signed in as a member');
  const item = page.locator('.my-answers .answer', { hasText: answer });
  await item.getByRole('button', { name: 'Make it only mine' }).click();
  await item.getByText('Only me').waitFor();

  assert.doesNotMatch(await profileText(coworkerPage, member), new RegExp(answer));
  await coworkerPage.context().close();
  await page.context().close();
});

test('forget me removes the member and their answers everywhere', async () => {
  const leaving = demo.members[8];
  const answer = `Soon forgotten ${Date.now()}: a quiet bench in the park`;
  const page = await signedInAs(leaving);
  await answerInEmulator(page, leaving, answer);

  await openHydrated(page, '/me');
  await page.getByLabel(/Type “forget me” to confirm/).fill('forget me');
  await page.getByRole('button', { name: 'Forget me' }).click();
  await page.locator('.empty', { hasText: 'You have not answered a question yet.' }).waitFor();

  const visitor = await browser.newPage();
  await openHydrated(visitor, '/people');
  assert.doesNotMatch(await visitor.locator('main').innerText(), new RegExp(leaving.name));
  await visitor.close();
  await page.context().close();
});

/** The paths of the wasm files `page` fetches from now on. */
function wasmFetchedBy(page) {
  const paths = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith('.wasm')) paths.push(path);
  });
  return paths;
}

/** The pages whose code a browser fetched: `people` for `/pkg/split___people_route_view_<hash>.wasm`. */
function pagesFetched(paths) {
  return paths.map((path) => path.match(/split___(.+)_route_view_/)?.[1]).filter(Boolean).sort();
}

test("each page fetches only its own code, and a member's never the admin area's", async () => {
  const memberPage = await signedInAs(member);
  const memberFetched = wasmFetchedBy(memberPage);
  for (const path of ['/me', '/people', '/questions']) {
    await openHydrated(memberPage, path);
  }
  assert.ok(memberFetched.includes('/pkg/rapport.wasm'), `the app itself loads: ${memberFetched}`);
  assert.deepEqual(pagesFetched(memberFetched), ['me', 'people', 'questions'], 'the three pages opened, nothing more');

  const adminPage = await signedInAs(admin);
  const adminFetched = wasmFetchedBy(adminPage);
  await openHydrated(adminPage, '/admin/packs');
  assert.deepEqual(pagesFetched(adminFetched), ['packs'], `only the packs page's code: ${adminFetched}`);
  await memberPage.context().close();
  await adminPage.context().close();
});
