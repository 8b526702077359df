// dashboard.mjs URL SCREENSHOT - drives weir's dashboard in Debian's headless
// chromium (playwright-core from web/node_modules) while records are being
// ingested: the live table and the chart must change, a query from the SQL
// box must answer, and the page is saved as a screenshot. Prints TAP.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const [url, screenshot] = process.argv.slice(2);
let n = 0, failed = 0;
const ok = (cond, name) => { n++; if (!cond) failed++; console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`); };
const attr = (page, sel, name) => page.$eval(sel, (e, a) => Number(e.dataset[a] || 0), name).catch(() => 0);

console.log('1..14');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('[data-table="per_page"] .rows-table tbody tr', { timeout: 30000 }).catch(() => {});
  ok(await page.$('[data-table="per_page"] .rows-table tbody tr'), 'the dashboard shows the table with rows');

  const before = await attr(page, '[data-table="per_page"]', 'updates');
  const firstRow = await page.$eval('[data-table="per_page"] .rows-table tbody', (e) => e.innerText).catch(() => '');
  await page.waitForFunction((first) => document.querySelector('[data-table="per_page"] .rows-table tbody').innerText !== first,
    firstRow, { timeout: 30000 }).catch(() => {});
  const after = await attr(page, '[data-table="per_page"]', 'updates');
  const nowRows = await page.$eval('[data-table="per_page"] .rows-table tbody', (e) => e.innerText).catch(() => '');
  ok(after > before && nowRows !== firstRow, `the live table changes without a reload (${before} -> ${after} updates)`);

  await page.waitForSelector('[data-table="per_second"] canvas', { timeout: 30000 }).catch(() => {});
  const pointsBefore = await attr(page, '[data-table="per_second"]', 'points');
  await page.waitForFunction((b) => Number(document.querySelector('[data-table="per_second"]').dataset.points) !== b,
    pointsBefore, { timeout: 30000 }).catch(() => {});
  const pointsAfter = await attr(page, '[data-table="per_second"]', 'points');
  ok(await page.$('[data-table="per_second"] canvas') && pointsAfter !== pointsBefore,
     `the windowed table's chart changes (${pointsBefore} -> ${pointsAfter} points)`);

  await page.waitForFunction(() => /records\/s in/.test(document.querySelector('#ingest-rate').textContent),
    null, { timeout: 30000 }).catch(() => {});
  ok(/[1-9][\d,.]* records\/s in/.test(await page.textContent('#ingest-rate')), 'the ingest rate shows');
  await page.waitForSelector('#sinks tbody tr', { timeout: 30000 }).catch(() => {});
  ok(/archive.*clicks.*file.*delivering/s.test(await page.textContent('#sinks').catch(() => '')), 'the sinks show with their state');

  await page.fill('#sql', 'SELECT page, n FROM per_page ORDER BY n DESC LIMIT 3');
  await page.click('#query button');
  await page.waitForFunction(() => [...document.querySelectorAll('#query-result th')].map((t) => t.textContent).join() === 'page,n',
    null, { timeout: 30000 }).catch(() => {});
  const header = await page.$$eval('#query-result th', (ths) => ths.map((t) => t.textContent).join(','));
  const rows = await page.$$eval('#query-result tbody tr', (trs) => trs.length);
  const shown = await page.$eval('#query-result tbody', (e) => e.innerText.replace(/\s+/g, ' '));
  ok(header === 'page,n' && rows >= 1 && rows <= 3, `the SQL box runs a pull query (${header}, ${rows} rows: ${shown})`);

  await page.fill('#sql', 'SELECT nothing FROM per_page');
  await page.click('#query button');
  await page.waitForFunction(() => document.querySelector('#query-error').textContent.length > 0, null, { timeout: 30000 }).catch(() => {});
  ok(/unknown column|nothing/.test(await page.textContent('#query-error')), 'a bad query shows its error');

  /* The stream browser: a stream's records, a key's, the dead letters with their reasons; the consumer groups. */
  await page.click('#streams .stream-link >> text="clicks"');
  await page.waitForSelector('#browse-records tbody tr', { timeout: 30000 }).catch(() => {});
  const browsed = await page.$$eval('#browse-records tbody tr', (trs) => trs.length);
  ok(!(await page.isHidden('#browser')) && browsed > 0 && browsed <= 50, `clicking a stream shows its newest records (${browsed})`);
  await page.fill('#browse-key', 'u7');
  await page.click('#browse-form button:has-text("Show")');
  await page.waitForFunction(() => [...document.querySelectorAll('#browse-records tbody tr td:nth-child(4)')].every((td) => td.textContent === 'u7'),
    null, { timeout: 30000 }).catch(() => {});
  const keys = await page.$$eval('#browse-records tbody tr td:nth-child(4)', (tds) => [...new Set(tds.map((td) => td.textContent))]);
  ok(keys.length === 1 && keys[0] === 'u7', `a key search shows only that key's records (${keys.join(',')})`);
  await page.click('#streams .stream-link >> text="clicks.dlq"');
  await page.waitForFunction(() => document.querySelector('#browse-stream').textContent === 'clicks.dlq' &&
    (document.querySelector('#browse-records tbody tr td.reason-col') || {}).textContent, null, { timeout: 30000 }).catch(() => {});
  const reason = await page.$eval('#browse-records tbody tr td.reason-col', (td) => td.textContent).catch(() => '');
  ok(/division by zero|zero/i.test(reason) && await page.isVisible('#browse-records tbody tr td.reason-col'),
     `a dead-letter stream shows each record's reason (${reason})`);
  await page.waitForSelector('#groups tbody tr', { timeout: 30000 }).catch(() => {});
  ok(/sink\.archive\s*clicks/.test(await page.textContent('#groups').catch(() => '')), 'the consumer groups show with their lag (sink.archive on clicks)');

  await page.waitForSelector('#queries tbody tr', { timeout: 30000 }).catch(() => {});
  ok(/per_page\s*file\s*clicks → per_page/.test(await page.textContent('#queries').catch(() => '')),
     'the queries show with their group and what they read and write');
  /* a table added to the running server (weir sql) appears with its rows, without a reload */
  const added = await fetch(new URL('/v1/statements', url), { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql: 'CREATE TABLE per_user AS SELECT user, COUNT(*) AS n FROM clicks GROUP BY user' }) });
  await page.waitForSelector('[data-table="per_user"] .rows-table tbody tr', { timeout: 30000 }).catch(() => {});
  ok(added.status === 200 && await page.$('[data-table="per_user"] .rows-table tbody tr') &&
     /per_user\s*s1/.test(await page.textContent('#queries').catch(() => '')),
     `a table added at runtime shows with its rows and its group (POST answered ${added.status})`);

  await page.waitForTimeout(1500); /* a few points on the ingest chart */
  await page.screenshot({ path: screenshot, fullPage: true });
  ok(errors.length === 0, `no script errors on the page${errors.length ? ': ' + errors.join('; ') : ''}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
