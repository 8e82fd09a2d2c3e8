// A support person's first troubleshooting round: an admin makes their
// account; they sign in, run the bucket doctor (and cannot apply fixes),
// and read the resizer's logs for an upload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, firstSignIn, launch, screenshot, pngFile, signInAsNewAdmin } from './helpers.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a support user signs in, runs the doctor and reads the logs', async () => {
  // An upload, so the resizer has something to log.
  const merchant = await browser.newPage();
  await merchant.goto(`${base}/`);
  await merchant.setInputFiles('#artwork', pngFile(`support-${Date.now()}.png`, 300, 200));
  await merchant.click('button[type=submit]');
  await merchant.waitForURL(/\/uploaded\//);
  const id = merchant.url().split('/uploaded/')[1];
  await merchant.locator('.status.ready').waitFor({ timeout: 30000 });
  await merchant.close();

  // The admin creates the support account.
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsNewAdmin(admin);
  await admin.goto(`${base}/admin/users`);
  const supportEmail = `support-${Date.now()}@easel.test`;
  await admin.fill('#email', supportEmail);
  await admin.selectOption('#role', 'support');
  await admin.click('form.panel button[type=submit]');
  const supportOneTime = (await admin.textContent('code.secret')).trim();
  await adminContext.close();

  // The support person signs in and sets a password.
  const context = await browser.newContext();
  const page = await context.newPage();
  await firstSignIn(page, supportEmail, supportOneTime, 'support passphrase for the test');
  assert.ok(await page.locator('figure.chart svg').count() === 1, 'the dashboard draws its chart');
  await screenshot(page, '30-support-dashboard');

  // The doctor: every check has a verdict; support sees remedies, not fix buttons.
  await page.click('nav >> text=Doctor');
  await page.waitForURL(/\/admin\/doctor$/);
  assert.match(await page.textContent('#doctor-summary'), /checks (pass|fail)/);
  assert.ok(await page.locator('details.check').count() >= 20, 'the checks are listed');
  assert.equal(await page.locator('text=Review the fix').count(), 0);
  // Specific verdicts, with the evidence they rest on.
  const access = page.locator('details.check[id="originals.resizer-access"]');
  assert.equal(await access.getAttribute('class'), 'check pass');
  assert.match(await access.textContent(), /s3:GetObject on arn:aws:s3:::\S+: allowed by statement "ResizerObjectAccess"/);
  const trigger = page.locator('details.check[id="originals.trigger"]');
  assert.equal(await trigger.getAttribute('class'), 'check pass');
  assert.match(await trigger.textContent(), /s3:ObjectCreated:\*/);
  const distinct = page.locator('details.check[id="stack.distinct-buckets"]');
  assert.equal(await distinct.getAttribute('class'), 'check pass');
  // Locally the TLS-only Deny is left out on purpose: a warning, not a pass.
  assert.equal(await page.locator('details.check[id="resized.tls-only"]').getAttribute('class'), 'check warn');
  // A healthy stack's list fits on one screen: nothing to open, nothing to scroll.
  await page.setViewportSize({ width: 1280, height: 900 });
  const bottom = await page.locator('ol.checks').evaluate((el) => el.getBoundingClientRect().bottom + window.scrollY);
  assert.ok(bottom <= 900, `the checks end ${Math.round(bottom)} px down, below the fold`);
  await screenshot(page, '31-support-doctor');
  const refused = await page.goto(`${base}/admin/doctor/fix/resized.policy`);
  assert.equal(refused.status(), 403);

  // The logs: the upload's invocation, found by its key.
  await page.goto(`${base}/admin/logs`);
  await page.fill('#q', `artwork/${id}`);
  await page.click('form.filters button[type=submit]');
  await page.waitForURL(/\/admin\/logs\?/);
  const invocation = page.locator('section.invocation', { hasText: `artwork/${id}` });
  await invocation.first().waitFor();
  assert.match(await invocation.first().textContent(), /RequestId .*"event":"resized"/s);
  await screenshot(page, '32-support-logs');
  await context.close();
});
