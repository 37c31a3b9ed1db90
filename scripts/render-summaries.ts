/**
 * `npm run render-summaries`: runs the demo (the built dist/index.js against the fakes), takes the
 * job summary of each step and renders it as GitHub shows a job summary: GitHub-flavoured
 * Markdown (marked), a small stylesheet written here to approximate GitHub's look (not GitHub's
 * own), and Mermaid charts drawn by the `mermaid` package, offline. Headless Chromium from the
 * distribution's packages (`apt-get install chromium fonts-noto-color-emoji`: the verdict's ✅ ⚠️ ❌
 * need a colour emoji font) takes a PNG of each under docs/images/.
 *
 *   node scripts/render-summaries.ts [--from <folder of .md summaries>] [--out docs/images]
 *
 * Everything temporary (the demo's summaries, HTML pages, Chromium's profile) lives in one
 * folder that is removed at the end.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Marked } from "marked";

const root = resolve(import.meta.dirname, "..");

/** The demo steps shown in docs/images, by the name the demo saves their summary under. */
export const PICTURES: Record<string, string> = {
  "set-desired-version": "set-desired-version: 1,000 instances, through injected 503s and a 429",
  "set-desired-version-failed": "set-desired-version: no migration published yet, and an unknown instance",
  "input-error": "A mistyped operation: the step stops before any request",
  "delete-instances-dry-run": "delete-instances, dry run",
  "fleet-status": "fleet-status",
  "publish-version": "publish-version",
  "complete-appliance-upgrade": "complete-appliance-upgrade",
};

/** Page width of a job summary on github.com, about. */
const WIDTH = 920;

/** A stylesheet approximating GitHub's Markdown look (written for this script, not copied). */
const CSS = `
  body { margin: 0; padding: 16px; background: #f6f8fa; font-family: -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
         font-size: 14px; line-height: 1.5; color: #1f2328; }
  .card { background: #fff; border: 1px solid #d1d9e0; border-radius: 6px; }
  .card > header { padding: 12px 16px; border-bottom: 1px solid #d1d9e0; font-weight: 600; font-size: 14px; }
  .markdown { padding: 16px 24px 8px; overflow-wrap: break-word; }
  .markdown > :first-child { margin-top: 0; }
  h1, h2, h3, h4 { margin: 24px 0 16px; font-weight: 600; line-height: 1.25; }
  h3 { font-size: 1.25em; } h4 { font-size: 1em; }
  p, ul, ol, table, pre, details, blockquote, .mermaid { margin: 0 0 16px; }
  ul, ol { padding-left: 2em; } li + li { margin-top: .25em; }
  code { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; font-size: 85%;
         padding: .2em .4em; background: rgba(129, 139, 152, .12); border-radius: 6px; }
  pre { padding: 16px; background: #f6f8fa; border-radius: 6px; overflow: auto; } pre code { padding: 0; background: none; }
  table { border-collapse: collapse; display: block; width: max-content; max-width: 100%; overflow: auto; }
  th, td { padding: 6px 13px; border: 1px solid #d1d9e0; } th { font-weight: 600; }
  tr:nth-child(2n) { background: #f6f8fa; }
  a { color: #0969da; text-decoration: none; }
  details summary { cursor: pointer; display: list-item; }
  blockquote { padding: 0 1em; color: #59636e; border-left: .25em solid #d1d9e0; }
  .alert { padding: 8px 16px; border-left: .25em solid; border-radius: 0; color: inherit; }
  .alert-title { font-weight: 500; display: block; margin-bottom: 4px; }
  .alert-note { border-color: #0969da; } .alert-note .alert-title { color: #0969da; }
  .alert-tip { border-color: #1a7f37; } .alert-tip .alert-title { color: #1a7f37; }
  .alert-warning { border-color: #9a6700; } .alert-warning .alert-title { color: #9a6700; }
  .alert-caution { border-color: #d1242f; } .alert-caution .alert-title { color: #d1242f; }
  .mermaid { display: flex; justify-content: center; border: 1px solid #d1d9e0; border-radius: 6px; padding: 8px; }
  .mermaid svg { max-height: 260px; }
`;

/** GitHub's alert blockquotes ("> [!NOTE]") as the styled boxes GitHub draws. */
function alerts(html: string): string {
  return html.replace(
    /<blockquote>\s*<p>\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*(?:<br>)?/g,
    (_m, kind: string) => `<blockquote class="alert alert-${kind.toLowerCase()}"><p><span class="alert-title">${kind.charAt(0)}${kind.slice(1).toLowerCase()}</span>`,
  );
}

/** The HTML page of one summary, as GitHub lays out a step's summary. */
export function summaryPage(title: string, markdown: string, mermaidScript: string | undefined): string {
  const marked = new Marked({ gfm: true });
  let body = marked.parse(markdown, { async: false });
  body = alerts(body).replace(/<pre><code class="language-mermaid">([\s\S]*?)<\/code><\/pre>/g, '<div class="mermaid">$1</div>');
  const hasCharts = body.includes('class="mermaid"');
  const escapeHtml = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const script =
    hasCharts && mermaidScript
      ? `<script src="${mermaidScript}"></script><script>
          mermaid.initialize({ startOnLoad: false, theme: "default", fontFamily: getComputedStyle(document.body).fontFamily });
          mermaid.run({ querySelector: ".mermaid" }).finally(() => (document.title = "height:" + document.documentElement.scrollHeight));
        </script>`
      : `<script>document.title = "height:" + document.documentElement.scrollHeight;</script>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>rendering</title><style>${CSS}</style></head>
<body><div class="card"><header>${escapeHtml(title)} summary</header><div class="markdown">${body}</div></div>${script}</body></html>`;
}

function chromium(args: string[], profile: string): string {
  const flags = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    `--user-data-dir=${profile}`,
    "--virtual-time-budget=10000",
  ];
  return execFileSync("chromium", [...flags, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 120_000 });
}

/** Renders one HTML page to a PNG whose height fits the page. */
function screenshot(htmlFile: string, png: string, profile: string): void {
  const url = pathToFileURL(htmlFile).href;
  const dom = chromium(["--allow-file-access-from-files", `--window-size=${WIDTH},800`, "--dump-dom", url], profile);
  const height = Number(/<title>height:(\d+)<\/title>/.exec(dom)?.[1] ?? "1200");
  chromium(["--allow-file-access-from-files", `--window-size=${WIDTH},${Math.min(Math.max(height, 200), 8000)}`, `--screenshot=${png}`, url], profile);
}

function runDemo(into: string): void {
  const res = spawnSync(process.execPath, [join(root, "demo", "run-demo.ts")], {
    env: { ...process.env, DEMO_SUMMARIES_DIR: into },
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 300_000,
  });
  if (res.status !== 0) throw new Error(`the demo failed (exit ${res.status}); run \`npm run build\` first`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const out = resolve(arg("--out") ?? join(root, "docs", "images"));
  const work = mkdtempSync(join(tmpdir(), "render-summaries-"));
  try {
    const from = arg("--from") ?? join(work, "summaries");
    if (!arg("--from")) runDemo(from);
    const mermaid = join(root, "node_modules", "mermaid", "dist", "mermaid.min.js");
    const mermaidScript = existsSync(mermaid) ? pathToFileURL(mermaid).href : undefined;
    if (!mermaidScript) console.warn("The mermaid package is not installed: charts are shown as their code.");
    mkdirSync(out, { recursive: true });
    for (const file of readdirSync(from).filter((f) => f.endsWith(".md"))) {
      const name = basename(file, ".md");
      const title = PICTURES[name];
      if (!title) continue;
      const html = join(work, `${name}.html`);
      writeFileSync(html, summaryPage(title, readFileSync(join(from, file), "utf8"), mermaidScript));
      const png = join(out, `summary-${name}.png`);
      screenshot(html, png, join(work, "chromium-profile"));
      console.log(`${png} (${Math.round(statSync(png).size / 1024)} KiB)`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
