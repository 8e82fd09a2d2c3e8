// Shared set-up for the browser tests: Debian's Chromium through
// playwright-core (a browser download would fail on this network), images
// made on the fly, and an admin account of each test's own.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import zlib from 'node:zlib';

export const base = process.env.EASEL_BASE_URL;
if (!base) throw new Error('EASEL_BASE_URL is not set: run the browser tests through `cargo ops test`.');
const shots = process.env.EASEL_SCREENSHOTS || join(process.cwd(), 'screenshots');
mkdirSync(shots, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.EASEL_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

const scratch = mkdtempSync(join(tmpdir(), 'easel-e2e-'));

// A w×h RGB gradient as a real PNG file; returns its path.
export function pngFile(name, w, h) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    const row = y * (w * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < w; x++) {
      raw[row + 1 + x * 3] = Math.floor((x * 255) / w);
      raw[row + 2 + x * 3] = Math.floor((y * 255) / h);
      raw[row + 3 + x * 3] = 140;
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
  const path = join(scratch, name);
  writeFileSync(path, png);
  return path;
}

export function textFile(name, text) {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

// An admin account of the calling test's own, made the way an operator
// makes one (`cargo ops create-admin`, run as the very binary running the
// tests): no test depends on what another did to a shared account first.
// Returns its address and one-time password.
export function newAdmin(name) {
  const ops = process.env.EASEL_OPS;
  const database = process.env.EASEL_E2E_DATABASE_URL;
  if (!ops || !database) throw new Error('EASEL_OPS/EASEL_E2E_DATABASE_URL are not set: run through `cargo ops test`.');
  const email = `${name}-${Math.random().toString(36).slice(2, 10)}@easel.test`;
  const said = execFileSync(ops, ['create-admin', email], {
    env: { ...process.env, DATABASE_URL: database },
    encoding: 'utf8',
  });
  const oneTime = said.match(/One-time password[^:]*: (\S+)/)?.[1];
  if (!oneTime) throw new Error(`cargo ops create-admin printed no one-time password: ${said}`);
  return { email, oneTime };
}

// A first sign-in: the one-time password, then the password the console
// requires in its place; ends on the dashboard.
export async function firstSignIn(page, email, oneTime, chosen) {
  await page.goto(`${base}/admin/login`);
  await page.fill('#email', email);
  await page.fill('#password', oneTime);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/admin\/password$/);
  await page.fill('#current', oneTime);
  await page.fill('#new', chosen);
  await page.fill('#confirm', chosen);
  await page.click('form.panel button[type=submit]');
  await page.waitForURL(/\/admin\?notice=password-changed$/);
}

// Signs `page` in as a new admin of the test's own. Returns its address.
export async function signInAsNewAdmin(page) {
  const { email, oneTime } = newAdmin('admin');
  await firstSignIn(page, email, oneTime, 'a long and private passphrase');
  return email;
}

// Whether the page is wider than the viewport, and the outermost elements
// that stick out (those inside a box that scrolls or clips do not count).
async function widerThanViewport(page) {
  return page.evaluate(() => {
    const root = document.documentElement;
    const vw = root.clientWidth;
    if (root.scrollWidth <= vw) return null;
    const contained = (el) => {
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(a).overflowX)) return true;
      }
      return false;
    };
    const culprits = [];
    const seen = new Set();
    for (const el of document.body.querySelectorAll('*')) {
      if (el.getBoundingClientRect().right <= vw + 1 || contained(el)) continue;
      if (el.parentElement && seen.has(el.parentElement)) { seen.add(el); continue; }
      seen.add(el);
      const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
      culprits.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${cls} reaches ${Math.round(el.getBoundingClientRect().right)} px`);
    }
    return { width: root.scrollWidth, culprits: culprits.slice(0, 10) };
  });
}

// axe-core on the page as it stands: fails on any serious or critical
// violation, naming each rule and the elements it found. Returns how many
// violations of any impact it saw.
async function axeFindsNothingSerious(page, where) {
  const { AxeBuilder } = await import('@axe-core/playwright');
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const said = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).join('\n    ')}`);
  if (bad.length) throw new Error(`axe-core on ${where} (${page.url()}):\n  ${said.join('\n  ')}`);
  return violations.length;
}

// axe-core at a desktop width, then at a phone's 375 px, where the page
// must also fit the width (a wide table scrolls inside its own box), with
// a screenshot at each width.
export async function checkAccessible(page, name) {
  const seen = await axeFindsNothingSerious(page, name);
  await page.setViewportSize({ width: 1280, height: 900 });
  await screenshot(page, `a11y-${name}-1280`);
  await page.setViewportSize({ width: 375, height: 812 });
  await screenshot(page, `a11y-${name}-375`);
  const overflow = await widerThanViewport(page);
  if (overflow) throw new Error(`${name} (${page.url()}) is ${overflow.width} px wide at 375 px:\n  ${overflow.culprits.join('\n  ')}`);
  await axeFindsNothingSerious(page, `${name} at 375 px`);
  await page.setViewportSize({ width: 1280, height: 900 });
  return seen;
}
