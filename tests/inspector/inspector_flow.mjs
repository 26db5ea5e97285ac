// The README's MCP Inspector steps, clicked in the Inspector's web UI by headless Chromium.
//
// usage: node inspector_flow.mjs <inspector-url> <mcp-url> <store-name> <legacy|modern> <screenshots-dir>
//
// Expects `<project> dev` serving <mcp-url> and the Inspector started with
// `--transport http --server-url <mcp-url> --protocol-era <era>` at <inspector-url> (its API token
// included). Steps: flip the server card's switch -> OAuth (401, metadata, DCR) -> the sandbox's
// consent page: pick <store-name>, untick read:customers, Approve -> Connected, the card showing the
// era's protocol version -> Tools > get_store > Execute Tool shows the store -> arguments typed as
// JSON that the server refuses (an unknown one, an out-of-range per_page): a Tool Error each ->
// list_customers gets 403 insufficient_scope -> "Additional permissions required" > Authorize ->
// consent with the same store pre-selected and read:customers ticked -> Approve -> list_customers
// answers -> get_store still shows <store-name>.
// Prints one line per step; exits 1 at the first failure, with a screenshot of it in <screenshots-dir>.
import fs from 'node:fs';
import { chromium } from 'playwright-core';

const [inspectorUrl, mcpUrl, store, era, shots] = process.argv.slice(2);
const version = { legacy: '2025-11-25', modern: '2026-07-28' }[era];
if (!shots || !version) {
  console.error('usage: node inspector_flow.mjs <inspector-url> <mcp-url> <store-name> <legacy|modern> <screenshots-dir>');
  process.exit(2);
}
fs.mkdirSync(shots, { recursive: true });
const sandboxAuthorize = /\/oauth\/authorize\?/;
const inspectorOrigin = new URL(inspectorUrl).origin;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
page.setDefaultTimeout(20000);
const problems = [];
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
page.on('response', (response) => {
  const url = response.url();
  // 401 (the sign-in's start), 403 (the step-up) and 405 (GET /mcp of a stateless server) are expected.
  if (response.status() >= 400 && ![401, 403, 405].includes(response.status()) && !url.endsWith('/favicon.ico')) {
    problems.push(`HTTP ${response.status()} ${response.request().method()} ${url.split('?')[0]}`);
  }
});

let failed = false;
async function step(name, action) {
  if (failed) return;
  try {
    const detail = await action();
    console.log(`ok: ${name}${detail ? ` (${detail})` : ''}`);
  } catch (error) {
    failed = true;
    const file = `${shots}/failed-${name.replace(/[^A-Za-z0-9]+/g, '-')}.png`;
    await page.screenshot({ path: file }).catch(() => {});
    console.log(`FAILED: ${name}: ${error.message.split('\n')[0]} (screenshot ${file})`);
    for (const problem of problems) console.log(`  seen: ${problem}`);
  }
}

async function consent({ untick = [], expectTicked = [], pickStore = true }) {
  await page.waitForURL(sandboxAuthorize, { timeout: 30000 });
  await page.getByRole('button', { name: 'Approve' }).waitFor();
  for (const scope of expectTicked) {
    if (!(await page.getByLabel(new RegExp(scope)).isChecked())) throw new Error(`${scope} is not ticked`);
  }
  const storeRadio = page.getByLabel(new RegExp(store));
  if (pickStore) await storeRadio.check();
  else if (!(await storeRadio.isChecked())) throw new Error(`${store} is not pre-selected`);
  for (const scope of untick) await page.getByLabel(new RegExp(scope)).uncheck();
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.waitForURL((url) => url.origin === inspectorOrigin, { timeout: 30000 });
  await page.getByText('Connected', { exact: true }).first().waitFor({ timeout: 30000 });
}

async function executeTool(name, json) {
  await page.locator('label', { hasText: /^Tools$/ }).first().click();
  await page.getByRole('button', { name, exact: true }).click();
  if (json !== undefined) {  // "Edit as JSON": the arguments as typed, past the form's own checks
    const asJson = page.getByRole('switch', { name: 'Edit as JSON' });
    if (!(await asJson.isChecked())) await asJson.click({ force: true });
    await page.getByRole('textbox', { name: /Arguments JSON/ }).focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(json);
  }
  await page.getByRole('button', { name: 'Execute Tool' }).click();
}

// The result panel's "Tool Error" box, once it says what `expected` matches (an earlier box may still show).
async function toolError(expected) {
  const box = page.getByRole('alert').filter({ hasText: 'Tool Error' }).filter({ hasText: expected }).first();
  try {
    await box.waitFor({ timeout: 10000 });
  } catch {
    const shown = await page.getByRole('alert').allInnerTexts();
    throw new Error(`no Tool Error matching ${expected}; shown: ${JSON.stringify(shown).slice(0, 300)}`);
  }
  return (await box.innerText()).replace('Tool Error', '').trim();
}

await step('the Inspector shows a card for the server', async () => {
  await page.goto(inspectorUrl);
  await page.getByText(new URL(mcpUrl).host, { exact: true }).first().waitFor();
});
await step("flip the card's switch: sign-in through the consent page, Connected", async () => {
  await page.getByRole('switch').first().click({ force: true });
  await consent({ untick: ['read:customers'] });
  await page.getByText(`MCP ${version}`, { exact: true }).first().waitFor();
  return `the card says MCP ${version}`;
});
await step('Tools > get_store > Execute Tool: the store picked answers', async () => {
  await executeTool('get_store');
  await page.getByText(`"name": "${store}"`).first().waitFor();
});
await step('count_products with an unknown argument (as JSON): a Tool Error naming it', async () => {
  await executeTool('count_products', '{"bogus": 1}');
  return toolError(/count_products: unknown argument\(s\) bogus; it takes status/);
});
await step('list_products with per_page 1000 (as JSON): a Tool Error naming per_page', async () => {
  await executeTool('list_products', '{"per_page": 1000}');
  await toolError(/per_page/);
});
await step('list_customers without read:customers: Additional permissions required', async () => {
  await executeTool('list_customers');
  await page.getByRole('dialog').filter({ hasText: 'Additional permissions required' }).waitFor();
});
await step('Authorize: consent with the same store and read:customers ticked, Approve, Execute Tool answers', async () => {
  const dialog = page.getByRole('dialog').filter({ hasText: 'Additional permissions required' });
  await dialog.getByRole('button', { name: 'Authorize' }).click();
  await consent({ expectTicked: ['read:customers'], pickStore: false });
  await executeTool('list_customers');
  await page.getByText('"orders_count"').first().waitFor();
});
await step('get_store after the step-up: still the store picked', async () => {
  await executeTool('get_store');
  await page.getByText('"orders_count"').first().waitFor({ state: 'detached' });
  await page.getByText(`"name": "${store}"`).first().waitFor();
});

await browser.close();
process.exit(failed ? 1 : 0);
