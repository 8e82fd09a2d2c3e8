// Every page, merchant and admin, checked by axe-core in Chromium: no
// serious or critical accessibility violation. Each is also saved as a
// screenshot at 1280 and 375 px wide (end2end/screenshots/a11y-*).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, checkAccessible, launch, pngFile, signInAsNewAdmin, textFile } from './helpers.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the merchant pages and the sign-in page pass axe-core', { timeout: 180000 }, async () => {
  // axe-core works on pages of a context made here (not browser.newPage()).
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await checkAccessible(page, 'upload');

  await page.setInputFiles('#artwork', pngFile(`a11y-${Date.now()}.png`, 800, 500));
  await page.click('button[type=submit]');
  await page.waitForURL(/\/uploaded\//);
  const id = page.url().split('/uploaded/')[1];
  await page.locator('.status.ready').waitFor({ timeout: 30000 });
  await checkAccessible(page, 'uploaded');
  await page.goto(`${base}/artworks/${id}`);
  await page.locator('img.artwork-full').waitFor();
  await checkAccessible(page, 'artwork');
  await page.goto(`${base}/gallery`);
  await checkAccessible(page, 'gallery');
  await page.goto(`${base}/no/such/page`);
  await checkAccessible(page, 'not-found');
  await page.goto(`${base}/admin/login`);
  await checkAccessible(page, 'sign-in');

  // The answers a form gets without the page's script: try again, and the
  // summary of several files. (axe-core itself needs JavaScript, so the
  // script is held back rather than JavaScript turned off.)
  const plain = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await plain.route('**/static/upload.js', (route) => route.abort());
  const form = await plain.newPage();
  await form.goto(`${base}/`);
  await form.setInputFiles('#artwork', textFile('a11y-notes.png', 'not a picture'));
  await form.click('button[type=submit]');
  await form.getByText('Upload Artwork Again').waitFor();
  await checkAccessible(form, 'try-again');
  await form.goto(`${base}/`);
  await form.setInputFiles('#artwork', [pngFile(`a11y-one-${Date.now()}.png`, 200, 200), textFile('a11y-two.png', 'no')]);
  await form.click('button[type=submit]');
  await form.locator('ul.outcomes').waitFor();
  assert.equal(await form.locator('ul.outcomes li').count(), 2);
  await checkAccessible(form, 'uploads-summary');
  await plain.close();
  await context.close();
});

test('the admin pages pass axe-core', { timeout: 180000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await signInAsNewAdmin(page);
  const pages = [
    ['/admin', 'admin-dashboard'],
    ['/admin/doctor', 'admin-doctor'],
    ['/admin/doctor/fix/resized.policy', 'admin-doctor-fix'],
    ['/admin/uploads', 'admin-uploads'],
    ['/admin/logs', 'admin-logs'],
    ['/admin/backups', 'admin-backups'],
    ['/admin/audit', 'admin-audit'],
    ['/admin/users', 'admin-users'],
    ['/admin/password', 'admin-password'],
    ['/admin/decommission', 'admin-decommission'],
  ];
  for (const [path, name] of pages) {
    const res = await page.goto(`${base}${path}`);
    assert.equal(res.status(), 200, `${path} answered ${res.status()}`);
    await checkAccessible(page, name);
  }
  await context.close();
});
