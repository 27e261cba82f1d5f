// Opens the admin dashboard in headless Debian Chromium with an admin token in session storage,
// waits for the plots and reports, per chart, how many points it holds and how many pixels of
// its canvas are painted. Every request that leaves loopback is aborted and reported.
// Usage: node scripts/dashboard-browser.mjs <base-url> <screenshot.png> <access-token>
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [baseUrl, screenshot, token] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "madhur-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1300, height: 900 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const outside = [];
const pageErrors = [];
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(60_000); // a loaded 2-core machine renders slowly
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.hostname === "localhost") return route.continue();
    outside.push(url.href);
    return route.abort();
  });
  await page.addInitScript((value) => sessionStorage.setItem("madhur.dashboard.token", value), token);
  await page.goto(`${baseUrl}/admin/dashboard/`);
  await page.waitForSelector("body[data-rendered]");
  const charts = await page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll(".chart")].map((node) => {
        const canvas = node.querySelector("canvas");
        let painted = 0;
        if (canvas) {
          const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
          for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
        }
        return [node.id, { points: Number(node.dataset.points ?? 0), painted, legend: [...node.querySelectorAll(".u-legend th")].map((th) => th.textContent.trim()) }];
      }),
    ),
  );
  await page.screenshot({ path: screenshot, fullPage: true });
  const statusText = await page.locator("#status").textContent();
  process.stdout.write(JSON.stringify({ charts, outside, pageErrors, status: statusText }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
