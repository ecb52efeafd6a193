// Logs in to /admin in headless Chromium on seeded data, checks what a
// person sees, and keeps screenshots in artifacts/.
//
//   cargo build && npm ci --prefix tests/browser && node tests/browser/admin.mjs
//
// Environment: SUNSET_BIN (default target/debug/sunset), CHROMIUM
// (default /usr/bin/chromium), ARTIFACTS (default artifacts/).
import { chromium } from "playwright-core";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = process.env.SUNSET_BIN ?? join(repo, "target/debug/sunset");
const artifacts = resolve(process.env.ARTIFACTS ?? join(repo, "artifacts"));
const adminToken = "browser-admin-token";

function freePort() {
  return new Promise((ok) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

async function waitFor(url, timeoutMs = 15000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

const port = await freePort();
const dir = mkdtempSync(join(tmpdir(), "sunset-browser-"));
const env = {
  ...process.env,
  SUNSET_CONFIG: join(repo, "sunset.toml"),
  SUNSET_SERVER__BIND: `127.0.0.1:${port}`,
  SUNSET_SERVER__PUBLIC_URL: `http://127.0.0.1:${port}`,
  SUNSET_SERVER__DATABASE_URL: `sqlite://${join(dir, "sunset.db")}`,
  SUNSET_LOCALES__DIR: join(repo, "locales"),
  SUNSET_ADMIN_TOKEN: adminToken,
  SUNSET_ANALYST_TOKEN: "browser-analyst-token",
  RUST_LOG: "warn",
};
const server = spawn(bin, ["serve"], { env, stdio: ["ignore", "inherit", "inherit"] });
let passed = 0;
let failed = 0;
function check(name, condition) {
  if (condition) {
    passed += 1;
  } else {
    failed += 1;
    console.error(`FAILED: ${name}`);
  }
}

try {
  await waitFor(`http://127.0.0.1:${port}/readyz`);
  const seeds = [
    ["201001234567", "مرحبا"],
    ["15551234567", "Hello, is the app still working?"],
    ["33612345678", "Bonjour, est-ce que le service fonctionne encore ?"],
    ["923001234567", "آپ کیسے ہیں؟"],
    ["5511912345678", "oi"],
  ];
  for (const [from, text] of seeds) {
    execFileSync(bin, ["simulate", "--from", from, "--text", text, "--url", `http://127.0.0.1:${port}`], { env, stdio: "ignore" });
  }

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`http://127.0.0.1:${port}/admin`);
  check("an anonymous visit lands on the login form", page.url().endsWith("/admin/login"));
  await page.fill("#token", adminToken);
  await Promise.all([page.waitForURL(/\/admin$/), page.click("button[type=submit]")]);
  const countdown = await page.textContent("#countdown");
  check("the dashboard shows the countdown", /\d+ days/.test(countdown ?? ""));
  check("the daily chart is drawn", (await page.locator("#daily svg rect").count()) > 0);
  const languages = await page.textContent("#languages");
  check("languages list Arabic, French and Urdu", ["ar", "fr", "ur"].every((l) => languages?.includes(l)));
  const funnel = await page.textContent("#funnel");
  check("the funnel counts the five messages", /inbound\s*5/.test(funnel ?? ""));
  check("no clear phone number on the page", !(await page.content()).includes("201001234567"));
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, "admin-dashboard.png"), fullPage: true });

  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(artifacts, "admin-dashboard-phone.png"), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check("the dashboard fits a phone screen", overflow <= 1);

  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(`http://127.0.0.1:${port}/admin/preview`);
  const rtl = await page.locator('.notice[dir="rtl"]').count();
  check("Arabic, Persian and Urdu previews read right to left", rtl === 15);
  const arabicAlign = await page.locator('.notice[lang="ar"]').first().evaluate((el) => getComputedStyle(el).direction);
  check("the Arabic cell is laid out rtl", arabicAlign === "rtl");
  await page.screenshot({ path: join(artifacts, "admin-preview.png"), fullPage: true });
  await browser.close();
} catch (error) {
  failed += 1;
  console.error(error);
} finally {
  server.kill("SIGTERM");
}
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
