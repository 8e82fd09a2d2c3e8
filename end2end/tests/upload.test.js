// A merchant's path through the pages, in a real browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, launch, screenshot, pngFile, textFile } from './helpers.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('an artwork uploaded through the form reaches the confirmation page and the gallery', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/`);
  await screenshot(page, '01-upload-form');
  const name = `harbour-${Date.now()}.png`;
  await page.setInputFiles('#artwork', pngFile(name, 900, 600));
  await page.click('button[type=submit]');
  await page.waitForURL(/\/uploaded\//);
  assert.match(await page.textContent('h1'), /Thank you/);
  assert.ok(await page.getByText('Upload Another Artwork').isVisible());
  await screenshot(page, '02-uploaded-processing');
  // The page refreshes itself until the renditions exist.
  await page.locator('.status.ready').waitFor({ timeout: 30000 });
  const thumbWidth = await page.locator('img.artwork').evaluate((img) => img.complete && img.naturalWidth);
  assert.equal(thumbWidth, 400);
  await screenshot(page, '03-uploaded-ready');
  await page.click('text=Open Gallery');
  await page.waitForURL(/\/gallery$/);
  const tile = page.locator('figure.tile', { hasText: name });
  await tile.waitFor();
  const loaded = await tile.locator('img').evaluate((img) => img.complete && img.naturalWidth > 0);
  assert.ok(loaded, 'the thumbnail loads');
  await screenshot(page, '04-gallery');
  await page.close();
});

test('a file that is not PNG or JPEG lands on the try-again page, also without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.setInputFiles('#artwork', textFile('notes.png', 'these are notes, not a picture'));
  await page.click('button[type=submit]');
  await page.getByText('Upload Artwork Again').waitFor();
  assert.match(await page.textContent('.reason'), /not a PNG or JPEG/);
  await screenshot(page, '05-try-again-wrong-format');
  await page.click('text=Upload Artwork Again');
  await page.waitForURL(`${base}/`);
  await context.close();
});

test('submitting without choosing a file lands on the try-again page', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/`);
  await page.click('button[type=submit]');
  await page.getByText('Upload Artwork Again').waitFor();
  assert.match(await page.textContent('.reason'), /No file was chosen/);
  await screenshot(page, '06-try-again-no-file');
  await page.close();
});
