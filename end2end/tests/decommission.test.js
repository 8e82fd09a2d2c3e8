// Decommissioning as a stakeholder meets it: an admin opens a request, the
// stakeholder finds the mail in the inbox, opens the link (which changes
// nothing by itself) and approves on the page it shows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, checkAccessible, launch, screenshot, signInAsNewAdmin } from './helpers.js';

const inbox = process.env.EASEL_MAIL_INBOX_URL;

let browser;
before(async () => {
  if (!inbox) throw new Error('EASEL_MAIL_INBOX_URL is not set: run through `cargo ops test`.');
  browser = await launch();
});
after(async () => { await browser?.close(); });

async function mailTo(address) {
  for (let i = 0; i < 100; i++) {
    for (const path of ['/email', '/api/email']) {
      const res = await fetch(`${inbox}${path}`).catch(() => null);
      if (!res?.ok) continue;
      const list = await res.json().catch(() => null);
      if (!Array.isArray(list)) continue;
      const found = list.find((m) => (m.to || []).some((t) => t.address === address));
      if (found) return found;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail reached ${address}`);
}

test('a stakeholder opens the link from the mail inbox and approves', async () => {
  const tag = Math.random().toString(36).slice(2, 10);
  const rep = `rep-${tag}@client.example`;
  const admin = await (await browser.newContext()).newPage();
  await signInAsNewAdmin(admin);
  await admin.goto(`${base}/admin/decommission`);
  await admin.fill('#stakeholders', `Rita Rep, ${rep}, representative\nBo Boss, boss-${tag}@client.example, management`);
  await admin.fill('#point_of_contact', 'Levin Dsouza');
  await admin.fill('#reason', 'The product is replaced by a newer one.');
  await admin.click('form.panel button[type=submit]');
  await admin.waitForURL(/\/admin\/decommission$/);
  assert.match(await admin.textContent('#step'), /stakeholders approve/);
  assert.match(await admin.textContent('.decommission-banner'), /Decommissioning under way/);
  await screenshot(admin, '30-decommission-request');
  await checkAccessible(admin, 'admin-decommission-under-way');

  const mail = await mailTo(rep);
  assert.match(mail.subject, /approval is requested/);
  const link = mail.text.match(/https?:\/\/\S+\/decommission\/[0-9a-f]{64}/)[0];

  // The stakeholder has no account: a fresh browser context, no cookies.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(link);
  assert.match(await page.textContent('h1'), /Approve the decommissioning/);
  await screenshot(page, '31-decommission-stakeholder-confirm');
  await checkAccessible(page, 'decommission-link');
  await page.fill('#comment', 'Agreed.');
  await page.click('button[value=approve]');
  await page.waitForLoadState();
  assert.match(await page.textContent('p[role=status]'), /approval is recorded/);
  await screenshot(page, '32-decommission-stakeholder-approved');
  await checkAccessible(page, 'decommission-link-done');
  // The same link again: used once, so refused.
  await page.goto(link);
  assert.match(await page.textContent('p[role=alert]'), /already been used/);
  await checkAccessible(page, 'decommission-link-refused');
  await context.close();

  await admin.goto(`${base}/admin/decommission`);
  const row = admin.locator('#stakeholder-list tr', { hasText: rep });
  assert.match(await row.textContent(), /approved/);

  // The console is shared with the other browser tests: leave no
  // decommission under way. The other stakeholder rejects, which halts it.
  const bossMail = await mailTo(`boss-${tag}@client.example`);
  const bossLink = bossMail.text.match(/https?:\/\/\S+\/decommission\/[0-9a-f]{64}/)[0];
  const other = await browser.newContext();
  const bossPage = await other.newPage();
  await bossPage.goto(bossLink);
  await bossPage.fill('#comment', 'Not yet: the browser test ends here.');
  await bossPage.click('button[value=reject]');
  await bossPage.waitForLoadState();
  assert.match(await bossPage.textContent('p[role=status]'), /decommissioning is halted/);
  await other.close();
  await admin.goto(`${base}/admin/decommission`);
  assert.equal(await admin.locator('.decommission-banner').count(), 0, 'no decommission is left under way');
  assert.match(await admin.textContent('.history'), /Not yet: the browser test ends here\./);
  await admin.close();
});
