// docs.mjs URL OPERATIONS - opens /docs in Debian's headless chromium and
// waits until Swagger UI shows OPERATIONS operations from /openapi.json,
// with no script errors. Prints one line; exits 1 on failure.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const [url, operations] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
let shown = 0;
const errors = [];
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction((n) => document.querySelectorAll('.opblock').length >= n, Number(operations),
    { timeout: 30000 }).catch(() => {});
  shown = await page.$$eval('.opblock', (els) => els.length);
} finally {
  await browser.close();
}
console.log(`${shown} of ${operations} operations shown${errors.length ? '; errors: ' + errors.join('; ') : ''}`);
process.exit(shown >= Number(operations) && !errors.length ? 0 : 1);
