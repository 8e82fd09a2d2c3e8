// A staff member's first visit: sign in with the one-time password, choose
// a real one, find the sign-in in the audit trail, sign out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, launch, newAdmin, screenshot } from './helpers.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('an admin signs in, changes the one-time password, sees the audit trail and signs out', async () => {
  const { email, oneTime } = newAdmin('first-visit');
  const page = await browser.newPage();
  await page.goto(`${base}/admin/audit`);
  await page.waitForURL(/\/admin\/login\?next=/);
  await screenshot(page, '10-admin-sign-in');
  await page.fill('#email', email);
  await page.fill('#password', oneTime);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/admin\/password$/);
  assert.match(await page.textContent('.notice'), /one-time password/);
  await screenshot(page, '11-admin-change-password');
  const chosen = 'a long and private passphrase';
  await page.fill('#current', oneTime);
  await page.fill('#new', chosen);
  await page.fill('#confirm', chosen);
  await page.click('form.panel button[type=submit]');
  await page.waitForURL(/\/admin\?notice=password-changed$/);
  assert.match(await page.textContent('.notice'), /password was changed/);
  await page.click('text=Audit trail');
  await page.waitForURL(/\/admin\/audit$/);
  const signIn = page.locator('table.audit tr', { hasText: 'auth.signed_in' }).filter({ hasText: email });
  assert.ok(await signIn.count() >= 1, 'the sign-in is in the trail');
  assert.match(await page.textContent('p[role=status]'), /Audit chain intact/);
  await screenshot(page, '12-admin-audit');
  await page.click('text=Sign out');
  await page.waitForURL(/\/admin\/login$/);
  // Signed out means out: the audit page sends us back to sign in.
  await page.goto(`${base}/admin/audit`);
  await page.waitForURL(/\/admin\/login\?next=/);
  await page.close();
});
