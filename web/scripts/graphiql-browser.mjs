// Drives the API's GraphiQL page in headless Debian Chromium like a person would: sets the
// Authorization header in the headers editor, types a query, runs it and reads the result.
// Every request that leaves loopback is aborted and reported, so a CDN asset shows up.
// Usage: node scripts/graphiql-browser.mjs <base-url> <screenshot.png> <access-token> <query>
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [baseUrl, screenshot, token, query] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "madhur-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const outside = [];
const assets = [];
const pageErrors = [];
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(60_000); // a loaded 2-core machine parses GraphiQL slowly
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  // GraphiQL introspects the schema for autocomplete and the docs; record how that went.
  const introspection = page.waitForResponse(
    (response) => response.request().postData()?.includes("IntrospectionQuery") ?? false,
  );
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.hostname === "localhost") {
      if (url.pathname.startsWith("/graphiql-assets/")) assets.push(url.pathname);
      return route.continue();
    }
    outside.push(url.href);
    return route.abort();
  });

  await page.goto(`${baseUrl}/graphql`);
  const editor = page.locator(".graphiql-query-editor .CodeMirror");
  await editor.waitFor();
  const initialQuery = await editor.evaluate((node) => node.CodeMirror.getValue());

  await page.getByRole("button", { name: "Headers" }).click();
  await page.locator(".graphiql-editor-tool .CodeMirror").last().click();
  await page.keyboard.type(`{"Authorization": "Bearer ${token}"}`);

  await editor.click();
  // The starter document holds several operations: clear it whole (a select-all typed while
  // the editor is still settling can miss some), then type the query as a person would.
  await editor.evaluate((node) => node.CodeMirror.setValue(""));
  await page.keyboard.type(query);
  await page.keyboard.press("Escape"); // close the autocomplete list
  await page.getByRole("button", { name: /Prettify/ }).click();
  // GraphiQL re-parses the document after a debounce: until then it still counts the starter
  // document's operations and the play button opens an operation menu instead of running.
  const execute = page.locator(".graphiql-execute-button:not([aria-haspopup])");
  await execute.waitFor();
  await execute.click();

  const result = page.locator(".result-window .CodeMirror");
  await page.waitForFunction(
    () => document.querySelector(".result-window .CodeMirror")?.CodeMirror?.getValue().includes('"data"'),
  );
  const resultText = await result.evaluate((node) => node.CodeMirror.getValue());
  const headersText = await page
    .locator(".graphiql-editor-tool .CodeMirror")
    .last()
    .evaluate((node) => node.CodeMirror.getValue());
  await page.screenshot({ path: screenshot });
  const schema = await (await introspection).json();
  process.stdout.write(
    JSON.stringify({
      result: JSON.parse(resultText),
      initialQuery,
      headersText,
      assets,
      outside,
      pageErrors,
      introspectionErrors: schema.errors ?? [],
      schemaTypes: schema.data?.__schema?.types?.length ?? 0,
    }),
  );
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
