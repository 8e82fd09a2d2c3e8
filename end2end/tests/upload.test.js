// A merchant's path through the pages, in a real browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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

test('files dropped on the page get a row each, with its own outcome', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/`);
  const stamp = Date.now();
  const files = [
    { name: `dropped-a-${stamp}.png`, path: pngFile(`dropped-a-${stamp}.png`, 320, 200), type: 'image/png' },
    { name: `dropped-notes-${stamp}.png`, path: textFile(`dropped-notes-${stamp}.png`, 'not a picture'), type: 'image/png' },
    { name: `dropped-b-${stamp}.png`, path: pngFile(`dropped-b-${stamp}.png`, 200, 320), type: 'image/png' },
  ].map((f) => ({ name: f.name, type: f.type, b64: readFileSync(f.path).toString('base64') }));
  // What a drag from the desktop hands the page: a DataTransfer of files.
  const transfer = await page.evaluateHandle((files) => {
    const dt = new DataTransfer();
    for (const f of files) {
      const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    return dt;
  }, files);
  await page.dispatchEvent('main', 'dragenter', { dataTransfer: transfer });
  await page.dispatchEvent('main', 'drop', { dataTransfer: transfer });
  const rows = page.locator('#upload-rows li');
  await rows.nth(2).waitFor();
  assert.equal(await rows.count(), 3, 'one row per file');
  // Each row settles on its own outcome, in place (the page stays).
  await page.locator('#upload-rows li.accepted').nth(1).waitFor({ timeout: 30000 });
  await page.locator('#upload-rows li.refused').waitFor({ timeout: 30000 });
  assert.equal(new URL(page.url()).pathname, '/');
  const refused = page.locator('#upload-rows li.refused');
  assert.match(await refused.textContent(), new RegExp(`dropped-notes-${stamp}.png.*Please try again: The file is not a PNG or JPEG image`));
  for (const name of [files[0].name, files[2].name]) {
    const row = page.locator('#upload-rows li.accepted', { hasText: name });
    assert.match(await row.textContent(), /Uploaded\./);
    const href = await row.locator('a').getAttribute('href');
    assert.match(href, /^\/artworks\/[0-9a-f-]{36}$/);
  }
  await screenshot(page, '07-upload-rows');
  // A row's link leads to the artwork's own page.
  await page.locator('#upload-rows li.accepted a').first().click();
  await page.waitForURL(/\/artworks\//);
  assert.ok(await page.locator('dl.facts').isVisible());
  await page.close();
});
