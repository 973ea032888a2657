// End-to-end tests: a real `paperboy serve` on loopback, a real Chromium.
// Usage: node e2e/run.mjs [path/to/paperboy]   (default target/debug/paperboy)
// Screenshots go to $E2E_OUT (default ci-output/screenshots).
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = resolve(process.argv[2] || join(root, "target/debug/paperboy"));
const out = resolve(process.env.E2E_OUT || join(root, "ci-output/screenshots"));
mkdirSync(out, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), "paperboy-e2e-"));
const env = { ...process.env, PAPERBOY_DATA_DIR: dataDir, PAPERBOY_DATABASE_URL: "", PAPERBOY_LOG: "warn" };

function cli(args, extraEnv = {}) {
  const r = spawnSync(bin, args, { env: { ...env, ...extraEnv }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`paperboy ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

function rfc2822(d) {
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p = (n) => String(n).padStart(2, "0");
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} GMT`;
}

// A store with the seed corpus, one fresh paper for the daily list, and a curator.
cli(["import", join(root, "fixtures/seed-papers.jsonl")]);
const fresh = {
  id: "2511.04242", title: "Averaging fine-tuned models, revisited for the daily list",
  abstract: "We revisit weight averaging of fine-tuned models and show when it generalizes out of distribution, and when a single fine-tuned model is the better choice.",
  authors: "Eve Example, Fay Sample", categories: "cs.LG",
  versions: [{ version: "v1", created: rfc2822(new Date()) }],
};
writeFileSync(join(dataDir, "fresh.jsonl"), JSON.stringify(fresh) + "\n");
cli(["import", join(dataDir, "fresh.jsonl")]);
cli(["user", "add", "cora", "cora@example.org", "--role", "curator"], { PAPERBOY_PASSWORD: "curator-password" });
cli(["user", "add", "mia", "mia@example.org", "--role", "moderator"], { PAPERBOY_PASSWORD: "moderator-password" });

// arXiv's HTML rendering, stood in on loopback: the fresh paper's page
// (LaTeXML's shape) cites Model soups by arXiv id and one paper not here;
// every other page is a 404, as arXiv answers papers without HTML.
const latexml = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Averaging, revisited</title></head>
<body><div class="ltx_page_main"><div class="ltx_page_content"><article class="ltx_document">
<h1 class="ltx_title ltx_title_document">Averaging fine-tuned models, revisited</h1>
<section id="S1" class="ltx_section"><h2 class="ltx_title ltx_title_section"><span class="ltx_tag ltx_tag_section">1 </span>Introduction</h2>
<div class="ltx_para"><p class="ltx_p">Greedy soups <cite class="ltx_cite">[<a href="#bib.bib1" class="ltx_ref">1</a>]</cite> beat the best single fine-tuned model.</p></div></section>
<section id="S2" class="ltx_section"><h2 class="ltx_title ltx_title_section"><span class="ltx_tag ltx_tag_section">2 </span>When averaging fails</h2>
<div class="ltx_para"><p class="ltx_p">Out of distribution, it depends <cite class="ltx_cite">[<a href="#bib.bib2" class="ltx_ref">2</a>]</cite>.</p></div>
<div class="ltx_para"><p class="ltx_p">On camera traps from iWildCam, the soup loses to the best single model by two points.</p></div></section>
<section id="bib" class="ltx_bibliography"><h2 class="ltx_title ltx_title_bibliography">References</h2><ul class="ltx_biblist">
<li id="bib.bib1" class="ltx_bibitem"><span class="ltx_tag ltx_tag_bibitem">[1]</span><span class="ltx_bibblock">M. Wortsman et al.</span><span class="ltx_bibblock">Model soups.</span><span class="ltx_bibblock">arXiv preprint arXiv:2203.05482, 2022.</span></li>
<li id="bib.bib2" class="ltx_bibitem"><span class="ltx_tag ltx_tag_bibitem">[2]</span><span class="ltx_bibblock">A. Nobody.</span><span class="ltx_bibblock">A paper this instance does not hold.</span><span class="ltx_bibblock">Journal of Elsewhere, 2021.</span></li>
</ul></section></article></div></div></body></html>`;
const arxiv = createServer((req, res) => {
  if (req.url.startsWith("/html/2511.04242v")) { res.writeHead(200, { "content-type": "text/html; charset=utf-8" }); res.end(latexml); }
  else { res.writeHead(404); res.end("No HTML for this paper"); }
});
await new Promise((ok) => arxiv.listen(0, "127.0.0.1", ok));
const arxivBase = `http://127.0.0.1:${arxiv.address().port}`;
// Asynchronously: the stand-in answers from this process's event loop.
const read = await new Promise((ok, fail) => {
  const p = spawn(bin, ["fulltext", "--limit", "3"], {
    env: { ...env, PAPERBOY_ARXIV_HTML_URL: arxivBase, PAPERBOY_ARXIV_MIN_INTERVAL_MS: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "", stderr = "";
  p.stdout.on("data", (c) => (stdout += c));
  p.stderr.on("data", (c) => (stderr += c));
  p.on("exit", (code) => (code === 0 ? ok(stdout) : fail(new Error(`paperboy fulltext failed: ${stderr}`))));
});
assert.match(read, /read 3 full texts \(1 parsed\), 2 references/, read);
arxiv.close();

const server = spawn(bin, ["serve", "--no-scheduler", "--bind", "127.0.0.1:0"], { env, stdio: ["ignore", "ignore", "pipe"] });
const base = await new Promise((ok, fail) => {
  let seen = "";
  const timer = setTimeout(() => fail(new Error("server did not start: " + seen)), 60000);
  server.stderr.on("data", (chunk) => {
    seen += chunk;
    // The whole line: a chunk may end in the middle of the address.
    const m = seen.match(/listening on (http:\/\/\S+)\r?\n/);
    if (m) { clearTimeout(timer); ok(m[1]); }
  });
  server.on("exit", (code) => fail(new Error(`server exited with ${code}: ${seen}`)));
});
for (let i = 0; ; i++) {
  try { const r = await fetch(base + "/healthz"); if (r.ok) break; if (i % 50 == 0) console.error("healthz", r.status, await r.text()); } catch (e) { if (i % 50 == 0) console.error("healthz", e.message, e.cause); }
  if (i > 300) throw new Error("server never became healthy");
  await new Promise((r) => setTimeout(r, 100));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// Every page runs under the Content-Security-Policy; a violation (or a
// script error) anywhere fails the last test.
const violations = [];
async function newPage(options = {}) {
  const ctx = await browser.newContext(options);
  await ctx.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`));
  });
  const page = await ctx.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|CSP violation/i.test(m.text())) violations.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => violations.push(`${page.url()}: ${e.message}`));
  return page;
}

async function logIn(page, name, password) {
  await page.goto(base + "/login");
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(base + "/");
}

async function signUp(page, name) {
  await page.goto(base + "/signup");
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Email").fill(`${name}@example.org`);
  await page.getByLabel(/Password/).fill(`${name} has a long password`);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.waitForURL(base + "/");
}
const shot = (page, name) => page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
async function upvotes(id) {
  return (await (await fetch(`${base}/api/papers/${id}`)).json()).upvotes;
}

test("search from the home page shows results with abstracts", async () => {
  const page = await newPage();
  await page.goto(base + "/");
  await shot(page, "home");
  await page.getByRole("searchbox", { name: "Search papers" }).first().fill("generalization of fine-tuned models");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/search\?q=/);
  // The search index follows the store; give it a moment after start.
  for (let i = 0; i < 50 && (await page.locator("article.paper").count()) === 0; i++) {
    await page.waitForTimeout(200);
    await page.reload();
  }
  const results = page.locator("article.paper");
  assert.ok((await results.count()) >= 3, "several results");
  const abstracts = await results.locator(".abstract").allInnerTexts();
  assert.ok(abstracts.filter((a) => a.trim().length > 80).length >= 3, "results show their abstracts");
  assert.ok((await page.locator("article.paper mark").count()) > 0, "matching terms are highlighted");
  await shot(page, "search");
});

test("sign up, log in, upvote, reload and see the vote kept", async () => {
  const page = await newPage();
  await page.goto(base + "/signup");
  await shot(page, "signup");
  await page.getByLabel("Username").fill("reader1");
  await page.getByLabel("Email").fill("reader1@example.org");
  await page.getByLabel(/Password/).fill("a good long password");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.waitForURL(base + "/");
  await page.getByRole("button", { name: "Log out" }).click();
  await page.goto(base + "/login");
  await page.getByLabel("Username").fill("reader1");
  await page.getByLabel("Password").fill("a good long password");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(base + "/");
  assert.ok(await page.getByRole("link", { name: "reader1" }).isVisible(), "logged in");
  const before = await upvotes("2203.05482");
  await page.goto(base + "/papers/2203.05482");
  const vote = page.locator("article.paper-page .actions form.vote button");
  await vote.click();
  await page.waitForFunction(() => document.querySelector("article.paper-page .actions form.vote button").getAttribute("aria-pressed") === "true");
  await page.reload();
  assert.equal(await vote.getAttribute("aria-pressed"), "true", "the vote is kept after a reload");
  assert.equal((await vote.locator(".count").innerText()).trim(), String(before + 1));
  assert.equal(await upvotes("2203.05482"), before + 1);
  await shot(page, "paper");
});

test("a curator submits a paper and it shows on today's daily page", async () => {
  const page = await newPage();
  await page.goto(base + "/login");
  await page.getByLabel("Username").fill("cora");
  await page.getByLabel("Password").fill("curator-password");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(base + "/");
  await page.goto(base + "/submit");
  await page.getByLabel("arXiv id or URL").fill("https://arxiv.org/abs/2511.04242");
  await page.getByRole("button", { name: "Submit" }).click();
  await page.waitForURL(/\/daily\/\d{4}-\d{2}-\d{2}$/);
  await page.goto(base + "/daily");
  assert.ok(await page.getByRole("link", { name: fresh.title }).isVisible(), "on today's list");
  await shot(page, "daily");
  // Submitting it again points to the existing entry.
  await page.goto(base + "/submit");
  await page.getByLabel("arXiv id or URL").fill("2511.04242");
  await page.getByRole("button", { name: "Submit" }).click();
  assert.match(await page.getByRole("alert").innerText(), /already on the/);
});

test("after logging out, voting fails", async () => {
  const page = await newPage();
  await page.goto(base + "/signup");
  await page.getByLabel("Username").fill("reader2");
  await page.getByLabel("Email").fill("reader2@example.org");
  await page.getByLabel(/Password/).fill("another long password");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.waitForURL(base + "/");
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL(base + "/");
  const before = await upvotes("2212.04458");
  await page.goto(base + "/papers/2212.04458");
  await page.locator("article.paper-page .actions form.vote button").click();
  await page.waitForURL(/\/login/);
  assert.equal(await upvotes("2212.04458"), before, "no vote without an account");
  const api = await page.evaluate(async () => (await fetch("/api/papers/2212.04458/upvote", { method: "POST" })).status);
  assert.equal(api, 401);
});

test("a paper's references and cited-by come from its full text", async () => {
  const page = await newPage();
  await page.goto(base + "/papers/2511.04242");
  assert.ok(await page.getByText("References (2)").first().isVisible());
  assert.ok(await page.getByText("When averaging fails").first().isVisible(), "section titles shown");
  await page.locator('a[href="/papers/2203.05482"]').first().click();
  await page.waitForURL(base + "/papers/2203.05482");
  assert.ok(await page.getByText("Cited by (1)").first().isVisible());
  assert.ok(await page.getByText("Greedy soups [1] beat the best single fine-tuned model.").first().isVisible());
  await shot(page, "paper-cited-by");
});

test("a passage of a paper's full text is found by search, and inside the paper", async () => {
  const page = await newPage();
  await page.goto(base + "/search?q=" + encodeURIComponent("camera traps iWildCam") + "&mode=keyword");
  const hit = page.locator("ol.papers li").filter({ hasText: "Averaging fine-tuned models, revisited" });
  assert.ok(await hit.isVisible(), "the paper is found by its full text alone");
  const passage = hit.locator("p.passage");
  assert.ok((await passage.innerText()).includes("When averaging fails"), "the passage names its section");
  assert.equal(await passage.locator("mark").first().innerText(), "camera");
  await shot(page, "search-passage");
  await page.goto(base + "/papers/2511.04242");
  await page.getByRole("searchbox", { name: "Search in this paper" }).fill("iWildCam");
  await page.locator("form.search-in button").click();
  await page.waitForURL(/\/papers\/2511\.04242\/search\?q=iWildCam/);
  assert.ok(await page.getByText("1 passage matches").isVisible());
  assert.equal(await page.locator("ol.passages h2.section").innerText(), "When averaging fails");
  assert.equal(await page.locator("ol.passages mark").innerText(), "iWildCam");
});

test("about, daily and error pages render", async () => {
  const page = await newPage({ colorScheme: "dark", viewport: { width: 390, height: 844 } });
  await page.goto(base + "/about");
  assert.ok(await page.getByRole("heading", { name: "How trending works" }).isVisible());
  await shot(page, "about-phone-dark");
  const r = await page.goto(base + "/papers/2203.99999");
  assert.equal(r.status(), 404);
  assert.ok(await page.getByRole("heading", { name: "Not found" }).isVisible());
});

test("discuss a paper: comment, reply, edit, report; a moderator hides it and the log says so", async () => {
  const paper = "/papers/2212.04458";
  const ann = await newPage();
  await signUp(ann, "ann");
  await ann.goto(base + paper);
  await ann.getByLabel("Add a comment").fill("Does the **merge** hold out of distribution? See $\\alpha_i$.");
  await ann.getByRole("button", { name: "Comment", exact: true }).click();
  await ann.waitForURL(/#comment-\d+$/);
  const mine = ann.locator("article.comment").first();
  assert.ok((await mine.locator(".comment-body strong").innerText()).includes("merge"), "Markdown rendered");
  assert.ok((await mine.locator(".comment-body").innerText()).includes("$\\alpha_i$"), "TeX kept as typed");
  const cid = await mine.getAttribute("data-comment-id");

  const ben = await newPage();
  await signUp(ben, "ben");
  await ben.goto(base + paper);
  const thread = ben.locator(`#comment-${cid}`).locator("xpath=..");
  await thread.locator("details.reply > summary").click();
  await thread.getByLabel("Your reply").fill("It does, within the same basin.");
  await thread.getByRole("button", { name: "Reply" }).click();
  await ben.waitForURL(/#comment-\d+$/);
  assert.ok(await ben.locator("ol.replies article.comment").filter({ hasText: "same basin" }).isVisible(), "the reply is nested");

  await ann.goto(base + paper);
  const own = ann.locator(`#comment-${cid}`);
  await own.locator("details.edit > summary").click();
  await own.getByLabel("Edit your comment").fill("Does the merge hold out of distribution? (edited for clarity)");
  await own.getByRole("button", { name: "Save" }).click();
  await ann.waitForURL(/#comment-\d+$/);
  assert.ok(await ann.locator(`#comment-${cid} .edited`).isVisible(), "marked edited");

  await ben.goto(base + paper);
  const reported = ben.locator(`#comment-${cid}`);
  await reported.locator("details.report > summary").click();
  await reported.getByLabel("Why should moderators look at it?").fill("off topic, testing the queue");
  await reported.getByRole("button", { name: "Report" }).click();
  assert.ok(await ben.getByRole("heading", { name: "Thank you" }).isVisible());

  const mia = await newPage();
  await logIn(mia, "mia", "moderator-password");
  await mia.goto(base + "/mod");
  const item = mia.locator("li.report").filter({ hasText: "off topic, testing the queue" });
  assert.ok(await item.isVisible(), "the report is in the queue");
  await item.locator("form[action^='/mod/comments/']").getByLabel("Reason (public)").fill("keeps the thread on the paper");
  await item.getByRole("button", { name: "Hide comment" }).click();
  await mia.waitForURL(/#comment-\d+$/);
  await shot(mia, "discussion-moderator");
  await mia.goto(base + "/moderation");
  const row = mia.locator("table.log tbody tr").first();
  assert.equal((await row.locator("td.action").innerText()).trim(), "hide comment");
  assert.ok((await row.innerText()).includes("keeps the thread on the paper"), "the reason is public");
  await shot(mia, "moderation-log");

  const visitor = await newPage();
  await visitor.goto(base + paper);
  assert.ok(await visitor.locator(`#comment-${cid}`).getByText("[hidden by a moderator]").isVisible());
  assert.ok(await visitor.getByText("same basin").isVisible(), "the reply stays");
});

test("an author claim, approved by a moderator, shows on the paper page", async () => {
  const paper = "/papers/2203.05482";
  const ann = await newPage();
  await logIn(ann, "ann", "ann has a long password");
  await ann.goto(base + paper);
  await ann.locator("details.claim > summary").click();
  await ann.getByLabel("I am").selectOption({ index: 0 });
  await ann.getByRole("button", { name: "Claim authorship" }).click();
  assert.ok(await ann.getByRole("heading", { name: "Claim sent" }).isVisible());
  const mia = await newPage();
  await logIn(mia, "mia", "moderator-password");
  await mia.goto(base + "/mod");
  const claim = mia.locator("li.claim").filter({ hasText: "ann" });
  await claim.getByLabel("Reason (public)").fill("checked the address on the paper");
  await claim.getByRole("button", { name: "Approve" }).click();
  await mia.waitForURL(/\/mod/);
  await ann.goto(base + paper);
  const link = ann.locator("p.authors a.claimed");
  assert.equal((await link.innerText()).trim(), "(@ann)");
  assert.equal(await link.getAttribute("href"), "/u/ann");
  await shot(ann, "paper-claimed");
  const api = await (await fetch(`${base}/api/papers/2203.05482`)).json();
  assert.equal(api.authors[0].user.user, "ann");
});

test("import a BibTeX library, get reasons on /for-you, 👎 one, follow an author and see the alert", async () => {
  const page = await newPage();
  await signUp(page, "libby");
  await page.goto(base + "/library");
  const bib = [
    "@article{soups, title = {Model soups}, eprint = {2203.05482}, archivePrefix = {arXiv}}",
    "@misc{tasks, title = {Knowledge Composition using Task Vectors}, url = {https://arxiv.org/abs/2407.02880}}",
    "@inproceedings{route, title = {Learning to Route Among Specialized Experts}, doi = {10.48550/arXiv.2402.05859}}",
    "@misc{nothing, author = {Nobody}}",
  ].join("\n");
  await page.setInputFiles("#file", { name: "mine.bib", mimeType: "text/plain", buffer: Buffer.from(bib) });
  await page.getByLabel(/Tag every imported paper/).fill("merging");
  await page.getByRole("button", { name: "Import" }).click();
  const notice = page.getByRole("status").first();
  assert.match(await notice.innerText(), /Imported 3 new papers/);
  assert.match(await page.locator("ul.problems").innerText(), /line 4: entry `nothing`/);
  assert.equal(await page.locator("ol.papers article.paper").count(), 3, "the library lists them");
  await shot(page, "library");

  await page.goto(base + "/for-you?days=0");
  const recs = page.locator("ol.recommendations > li");
  assert.ok((await recs.count()) >= 3, "recommendations");
  assert.match(await recs.first().locator(".why").innerText(), /Why: close to .*(soups|Task Vectors|Experts)/i);
  await shot(page, "for-you");
  const first = await recs.first().locator("article.paper").getAttribute("data-arxiv-id");
  const count = await recs.count();
  await recs.first().getByRole("button", { name: "Less like this" }).click();
  await page.waitForURL(/\/for-you/);
  const after = await page.locator("ol.recommendations article.paper").evaluateAll((els) => els.map((e) => e.dataset.arxivId));
  assert.ok(!after.includes(first), `${first} is gone after 👎`);
  assert.ok(after.length >= Math.min(count, 2), "the list is still there, updated");

  await page.goto(base + "/authors/" + encodeURIComponent("Mitchell Wortsman"));
  await page.getByRole("button", { name: /^Follow Mitchell Wortsman/ }).click();
  await page.waitForURL(/\/authors\//);
  assert.ok(await page.getByRole("button", { name: /^Following Mitchell Wortsman/ }).isVisible());
  const newer = {
    id: "2511.05555", title: "Soups of soups: averaging many fine-tuned models again",
    abstract: "A follow-up on weight averaging of fine-tuned models, with more models in each soup and a study of when it helps.",
    authors: "Mitchell Wortsman, Ada Example", categories: "cs.LG",
    versions: [{ version: "v1", created: rfc2822(new Date()) }],
  };
  writeFileSync(join(dataDir, "newer.jsonl"), JSON.stringify(newer) + "\n");
  cli(["import", join(dataDir, "newer.jsonl")]);
  let text = "";
  for (let i = 0; i < 60; i++) {
    await page.goto(base + "/notifications");
    text = await page.locator("ol.notifications").innerText();
    if (text.includes("New paper by Mitchell Wortsman")) break;
    await page.waitForTimeout(500);
  }
  assert.match(text, /New paper by Mitchell Wortsman: .Soups of soups/);
  await shot(page, "alert");
});

// axe-core's rules, run in the page through the DevTools protocol (so the
// CSP, which forbids injected scripts, does not stop it).
const axeSource = readFileSync(join(root, "e2e/node_modules/axe-core/axe.min.js"), "utf8");
async function axeViolations(page) {
  await page.evaluate(axeSource);
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

// The first hour of a new reader, at a desktop width and a phone's: search
// in each mode and with a pasted abstract, the compact view, save + tag +
// remove a tag, feedback on /for-you and its undo, a new password. Every
// page passes axe; screenshots of each step.
for (const [label, viewport] of [["desktop", { width: 1280, height: 900 }], ["phone", { width: 390, height: 844 }]]) {
  test(`the first hour of a new reader (${label})`, async () => {
    const page = await newPage({ viewport });
    const name = `newcomer-${label}`;
    await signUp(page, name);
    const checkAxe = async (what) => {
      const v = await axeViolations(page);
      assert.deepEqual(v, [], `${what} (${label}): axe violations`);
    };
    // The header in at most two rows on a phone.
    const rows = await page.locator("header.site nav").evaluate((nav) => {
      // Rows: items whose vertical middles lie within 16 px of each other.
      const mids = [];
      for (const e of nav.querySelectorAll("a, button, input")) {
        const r = e.getBoundingClientRect();
        if (r.width > 0 && r.height > 0) mids.push(r.top + r.height / 2);
      }
      mids.sort((a, b) => a - b);
      let rows = 0, last = -Infinity;
      for (const m of mids) { if (m - last > 16) rows++; last = m; }
      return rows;
    });
    assert.ok(rows <= 2, `the header takes ${rows} rows (${label})`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= viewport.width + 1, `page ${width}px wide at ${viewport.width}px`);
    await checkAxe("home");
    for (const mode of ["keyword", "semantic", "hybrid"]) {
      await page.goto(`${base}/search?q=averaging+weights+of+fine-tuned+models&mode=${mode}`);
      assert.ok(await page.locator(`input[name=mode][value=${mode}]`).isChecked(), `${mode} shown as chosen`);
      assert.ok((await page.locator("ol.papers article.paper").count()) > 0, `${mode} finds papers`);
    }
    await checkAxe("search");
    await shot(page, `first-hour-search-${label}`);
    // A pasted abstract (over 300 characters) is a search too.
    const pasted = "We revisit the second step of this procedure in the context of fine-tuning large pre-trained models, where fine-tuned models often appear to lie in a single low error basin. We show that averaging the weights of multiple models fine-tuned with different hyperparameter configurations often improves accuracy and robustness, without extra inference cost.";
    await page.goto(base + "/search");
    await page.locator("#q2").fill(pasted);
    await page.locator("form.search-big").getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/\/search\?q=/);
    assert.ok(await page.locator('article[data-arxiv-id="2203.05482"]').count() > 0, "Model soups found from its abstract");
    // The compact view, remembered.
    await page.getByRole("link", { name: "Compact" }).click();
    await page.waitForURL(/\/search\?q=/);
    assert.ok(await page.locator("body.compact").count() === 1, "compact view");
    await shot(page, `first-hour-compact-${label}`);
    await page.goto(base + "/");
    assert.ok(await page.locator("body.compact").count() === 1, "compact view kept");
    await checkAxe("compact list");
    // Save, tag with two tags, remove one.
    await page.goto(base + "/papers/2203.05482");
    await page.getByRole("button", { name: "☆ Save" }).first().click();
    await page.goto(base + "/library");
    await page.getByLabel("Add tags").first().fill("merging, weight averaging");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Tag" }).first().click()]);
    const tags = await page.locator("div.tags a.tag").allInnerTexts();
    assert.deepEqual(tags.sort(), ["merging", "weight-averaging"], "two tags");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Remove the tag merging" }).click()]);
    assert.deepEqual(await page.locator("div.tags a.tag").allInnerTexts(), ["weight-averaging"]);
    await checkAxe("library");
    await shot(page, `first-hour-library-${label}`);
    // Feedback on /for-you, confirmed, undone.
    await page.goto(base + "/for-you?days=0");
    const first = page.locator("ol.recommendations > li").first();
    const picked = await first.locator("article.paper").getAttribute("data-arxiv-id");
    await first.getByRole("button", { name: "Less like this" }).click();
    await page.waitForURL(/rated=/);
    assert.match(await page.locator("div.notice[role=status]").innerText(), /Noted: less like/);
    await checkAxe("for-you");
    await shot(page, `first-hour-for-you-${label}`);
    await page.getByRole("button", { name: "Undo" }).click();
    await page.waitForURL(/\/for-you/);
    const back = await page.locator("ol.recommendations article.paper").evaluateAll((els) => els.map((e) => e.dataset.arxivId));
    assert.ok(back.includes(picked), `${picked} is back after Undo`);
    // A new password.
    await page.goto(base + "/account");
    await page.getByLabel("Current password").fill(`${name} has a long password`);
    await page.getByLabel(/New password/).fill(`${name} has a newer password`);
    await page.getByRole("button", { name: "Change password" }).click();
    assert.match(await page.locator("p.notice[role=status]").innerText(), /password is changed/);
    await checkAxe("account");
    await shot(page, `first-hour-account-${label}`);
  });
}

test("pages run under a strict Content-Security-Policy without violations", async () => {
  const page = await newPage();
  const r = await page.goto(base + "/papers/2203.05482");
  const csp = r.headers()["content-security-policy"] || "";
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(r.headers()["x-content-type-options"], "nosniff");
  assert.deepEqual(violations, [], "no CSP violation or script error on any page");
});

let passed = 0, failed = 0;
for (const t of tests) {
  try {
    await t.fn();
    passed++;
    console.log(`ok - ${t.name}`);
  } catch (e) {
    failed++;
    console.log(`FAILED - ${t.name}\n${e.stack || e}`);
  }
}
await browser.close();
server.kill();
rmSync(dataDir, { recursive: true, force: true });
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
