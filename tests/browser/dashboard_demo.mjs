// dashboard_demo.mjs URL SCREENSHOT - drives the dashboard of `make run` (the
// five example systems in one weir serve) in Debian's headless chromium:
// every table gets its card with rows, every stream its line, dead letters
// arrive, the header keeps updating, the page holds one change feed (a
// browser allows six connections per server), a query still answers; after
// 30 s the page is saved as a screenshot. Prints TAP.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const [url, screenshot] = process.argv.slice(2);
let n = 0, failed = 0;
const ok = (cond, name) => { n++; if (!cond) failed++; console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`); };
const started = Date.now();
const get = async (path) => (await fetch(new URL(path, url))).json();

console.log('1..9');
const { tables } = await get('/v1/tables');
const { streams } = await get('/v1/streams');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
  const errors = [], feeds = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => { if (/\/changes(\?|$)/.test(new URL(r.url()).pathname + new URL(r.url()).search)) feeds.push(r.url()); });
  await page.goto(url);

  const empty = async () => page.evaluate((names) => names.filter((t) =>
    !document.querySelector(`[data-table="${CSS.escape(t)}"] .rows-table tbody tr`)), tables.map((t) => t.name));
  await page.waitForFunction((names) => names.every((t) =>
    document.querySelector(`[data-table="${CSS.escape(t)}"] .rows-table tbody tr`)), tables.map((t) => t.name),
    { timeout: 60000 }).catch(() => {});
  const missing = await empty();
  ok(tables.length >= 15 && missing.length === 0,
     `all ${tables.length} tables of the five systems show with rows${missing.length ? ' (empty: ' + missing.join(', ') + ')' : ''}`);

  await page.waitForFunction((names) => names.every((s) =>
    [...document.querySelectorAll('#streams tbody td:first-child')].some((td) => td.textContent === s)),
    streams.map((s) => s.name), { timeout: 20000 }).catch(() => {});
  const listed = await page.$$eval('#streams tbody td:first-child', (tds) => tds.map((td) => td.textContent));
  const unlisted = streams.map((s) => s.name).filter((s) => !listed.includes(s));
  ok(unlisted.length === 0, `the Streams panel lists all ${streams.length} streams${unlisted.length ? ' (missing: ' + unlisted.join(', ') + ')' : ''}`);

  await page.waitForSelector('#dlq tbody tr', { timeout: 60000 }).catch(() => {});
  ok(await page.$('#dlq tbody tr'), 'dead letters (the malformed logins) show with their reasons');

  const uptime1 = await page.textContent('#uptime');
  await page.waitForFunction((u) => document.querySelector('#uptime').textContent !== u, uptime1, { timeout: 15000 }).catch(() => {});
  const uptime2 = await page.textContent('#uptime');
  ok(uptime2 !== uptime1 && (await page.textContent('#status')) === 'running',
     `the header keeps updating (${uptime1} -> ${uptime2})`);

  ok(feeds.length >= 1 && feeds.every((f) => new URL(f).pathname === '/v1/changes') && feeds.length <= 3,
     `the page follows every table and dead-letter stream over one feed (${feeds.length} opened: ${feeds.map((f) => new URL(f).pathname).join(', ')})`);

  await page.fill('#sql', 'SELECT number, steps FROM chains ORDER BY steps DESC LIMIT 3');
  await page.click('#query button');
  await page.waitForFunction(() => document.querySelectorAll('#query-result tbody tr').length > 0, null, { timeout: 10000 }).catch(() => {});
  ok((await page.$$('#query-result tbody tr')).length > 0, 'a pull query from the SQL box still answers');

  ok(!(await page.isVisible('#login')), 'without --token the sign-in box is hidden');

  const top = await page.$eval('[data-table="top_videos"] .rows-table tbody', (e) => e.innerText).catch(() => '');
  ok(/v\d+ \d+/.test(top) && !top.includes('{'), `TOPK reads as a ranking, not JSON (${top.split('\n')[0].slice(0, 80)})`);

  await page.waitForTimeout(Math.max(0, 30000 - (Date.now() - started)));
  await page.screenshot({ path: screenshot, fullPage: true });
  ok(errors.length === 0, `no script errors on the page${errors.length ? ': ' + errors.join('; ') : ''}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
