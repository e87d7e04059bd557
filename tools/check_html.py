"""Open every page of the built book in headless Chromium, offline, and fail on what a reader would see broken.

    python tools/check_html.py [--html _build/html] [--screenshots _build/screenshots] [PAGE ...]

The pages are served from 127.0.0.1; every request to any other host is blocked and
counted as a failure. Each page is loaded at 1280 px width; after MathJax has finished
typesetting, every collapsed dropdown is opened and the page is checked for:

- offline:   a request to another host (a CDN), or a local request that failed or got >= 400;
- console:   a console error or an uncaught exception;
- math:      a MathJax error (`mjx-merror`, "Math input error"), or no MathJax where there is math;
- macro:     a macro in _config.yml that redefines a built-in TeX command (as `\\sim` did);
- tex:       TeX left unrendered in the text outside code (`\\(`, `\\[`, `$$`, `\\begin{`, `\\macro`);
- image:     an image that did not load (naturalWidth 0);
- link:      an internal link whose file is missing, or whose `#anchor` is not an id on the target page;
- overflow:  a code block (input or output `pre`) or display equation wider than its column;
- scripts:   more `<script src>` tags than a page needs (vendored files picked up as page scripts).

Then one page is loaded at 400 px width, where the menu button must open the sidebar.
A full-page JPEG screenshot of each page at 1280 px (dropdowns open) goes to the
screenshots folder, with the 400 px page before and after pressing the menu button. Prints a line per page and a total,
then every failure with its page and element; exits 1 on any failure.

Needs Playwright for Python and a Chromium binary (Debian's `chromium`, /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 400, "height": 800}
NARROW_PAGE = "book/ch03_modern_hopfield.html"
SHOT_QUALITY = 85  # JPEG: a full-page PNG of a long chapter takes twice as long to write
MAX_SCRIPTS = 25  # <script src> tags on one page; the book's pages have about 15
# Folders of the build that hold assets and templates, not pages.
NOT_PAGES = {"_static", "_sources", "_images", "_downloads"}

# Everything the page-side check needs, evaluated once the page is typeset.
PAGE_JS = r"""
async (allowedShadows) => {
  const out = {failures: [], counts: {}};
  const fail = (kind, element, detail) => out.failures.push({kind, element, detail});
  const short = (s, n = 90) => (s || '').replace(/\s+/g, ' ').trim().slice(0, n);
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    const sec = el.closest('section[id]');
    if (sec) s += ' in section #' + sec.id;
    return s;
  };

  // Open whatever is collapsed (solutions, hidden cells), so that it is checked too.
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));

  // Math.
  out.counts.math = document.querySelectorAll('mjx-container').length;
  const hasMathJax = !!(window.MathJax && MathJax.startup && MathJax.startup.document);
  if (document.querySelectorAll('.math').length && !hasMathJax)
    fail('math', 'page', 'the page has math but MathJax did not load');
  const seenErrors = new Set();
  if (hasMathJax) {
    for (const item of MathJax.startup.document.math) {
      const root = item.typesetRoot;
      const errs = root && root.querySelectorAll ? [...root.querySelectorAll('mjx-merror')] : [];
      errs.forEach(e => seenErrors.add(e));
      if (errs.length) fail('math', describe(root), short(errs[0].getAttribute('data-mjx-error') || errs[0].textContent)
                            + ' in: ' + short(item.math, 120));
    }
  }
  for (const err of document.querySelectorAll('mjx-merror'))
    if (!seenErrors.has(err)) fail('math', describe(err.closest('mjx-container') || err),
                                   short(err.getAttribute('data-mjx-error') || err.textContent));
  if (hasMathJax) {  // a macro of the book's own that hides a TeX or MathJax command
    const handler = MathJax.startup.document.inputJax[0].parseOptions.handlers.get('macro');
    const builtin = [...handler._configuration].map(x => x.item).filter(m => m.name !== 'configmacros-map');
    for (const name of Object.keys((MathJax.config.tex || {}).macros || {}))
      if (!allowedShadows.includes(name) && builtin.some(m => m.contains(name)))
        fail('macro', '\\' + name, 'the configured macro redefines a built-in TeX command');
  }

  // Text: raw TeX outside code, and "Math input error" anywhere.
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, .output, .cell_output, kbd, samp';
  const rawTex = /\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\end\{|\\[A-Za-z]{2,}/;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node, texHits = 0;
  while ((node = walker.nextNode())) {
    const text = node.nodeValue;
    if (!text || !text.trim()) continue;
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    if (text.includes('Math input error')) fail('math', describe(parent), 'Math input error: ' + short(text));
    const m = text.match(rawTex);
    if (m && texHits++ < 20) fail('tex', describe(parent), 'unrendered TeX ' + JSON.stringify(m[0]) + ': ' + short(text, 120));
  }

  // Images.
  const imgs = [...document.images];
  out.counts.images = imgs.length;
  imgs.forEach(img => { img.loading = 'eager'; });
  await Promise.all(imgs.map(img => img.complete ? null :
      new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); setTimeout(r, 5000); })));
  for (const img of imgs)
    if (!img.naturalWidth) fail('image', describe(img), 'did not load: ' + short(img.getAttribute('src'), 120));

  // Overflow: code blocks and display equations wider than their column.
  const column = document.querySelector('.bd-article-container, article, main') || document.body;
  const right = column.getBoundingClientRect().right;
  const blocks = [...document.querySelectorAll('pre, div.math, mjx-container[display="true"]')]
      .filter(el => el.closest('.bd-article-container, article, main'));
  out.counts.pre = blocks.filter(el => el.tagName === 'PRE').length;
  out.counts.equations = blocks.filter(el => el.tagName === 'MJX-CONTAINER').length;
  const texOf = new Map();
  if (hasMathJax) for (const item of MathJax.startup.document.math) texOf.set(item.typesetRoot, item.math);
  for (const el of blocks) {
    if (el.tagName === 'DIV' && el.querySelector('mjx-container')) continue;  // judged by its container
    const box = el.getBoundingClientRect();
    if (!box.width) continue;
    const over = Math.max(el.scrollWidth - el.clientWidth, Math.ceil(box.right - right));
    if (over > 1) {
      const what = el.tagName === 'PRE' ? (el.closest('.cell_output, .output') ? 'output pre' : 'code pre')
                                        : 'display equation';
      const src = el.tagName === 'PRE' ? el.textContent.split('\n').reduce((a, b) => a.length >= b.length ? a : b)
                                       : texOf.get(el) || '';
      fail('overflow', what + ' ' + describe(el), `${over}px wider than its column (${Math.round(el.clientWidth)}px)`
           + (src ? ': ' + short(src, 100) : ''));
    }
  }

  // Scripts the page loads.
  out.counts.scripts = document.querySelectorAll('script[src]').length;

  // Links and ids, for the internal-link check done outside.
  out.links = [...document.querySelectorAll('a[href]')].map(a => ({href: a.href, element: describe(a)}));
  out.ids = [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.getAttribute('name'));
  return out;
}
"""

# Configured macros that may redefine a built-in: the book writes the matrix of stored
# patterns, \Xi, in bold.
ALLOWED_SHADOWS = ["Xi"]

# Pressing the menu button at 400 px must show the sidebar's links.
SIDEBAR_LINKS = ".bd-sidebar-primary a.reference, #pst-primary-sidebar-modal a.reference"
MENU_BUTTON = ".primary-toggle"

VISIBLE_SIDEBAR_JS = r"""
(selector) => [...document.querySelectorAll(selector)].filter(a => {
  const r = a.getBoundingClientRect(), s = getComputedStyle(a);
  return r.width > 0 && r.height > 0 && r.right > 0 && r.left < innerWidth && r.top < innerHeight
         && s.visibility !== 'hidden' && a.checkVisibility();
}).length
"""


@dataclass
class Failure:
    page: str
    kind: str
    element: str
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: {self.kind}: {self.element}: {self.detail}"


@dataclass
class PageResult:
    page: str
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class Server:
    """Serve a folder on 127.0.0.1 (a free port) from a background thread."""

    def __init__(self, folder: Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def list_pages(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html")
                  if not NOT_PAGES & set(p.relative_to(folder).parts))


_ID = re.compile(r"""<[^>]*?\s(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.S)


@functools.lru_cache(maxsize=None)
def ids_in_file(path: Path) -> frozenset[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return frozenset(html.unescape(a or b) for a, b in _ID.findall(text))


def check_links(page: str, links: list[dict], page_ids: set[str], base: str, folder: Path) -> list[Failure]:
    failures, seen = [], set()
    for link in links:
        href = link["href"]
        if not href.startswith(base) or href in seen:
            continue
        seen.add(href)
        parts = urlsplit(href)
        rel = unquote(parts.path[len(urlsplit(base).path):])
        target = folder / rel
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            failures.append(Failure(page, "link", link["element"], f"missing target file: {rel}"))
            continue
        anchor = unquote(parts.fragment)
        if not anchor:
            continue
        ids = page_ids if target.resolve() == (folder / page).resolve() else ids_in_file(target)
        if anchor not in ids:
            failures.append(Failure(page, "link", link["element"], f"no id {anchor!r} on {target.relative_to(folder)}"))
    return failures


def screenshot_name(page: str) -> str:
    return page.removesuffix(".html").replace("/", "__") + ".jpg"


_REDIRECT = re.compile(r"""<meta\s+http-equiv=["']refresh["']\s+content=["']\d+;\s*url=([^"']+)["']""", re.I)


def redirect_target(folder: Path, page: str) -> str | None:
    """The target of a page that is only a meta-refresh redirect (the book's index.html), else None."""
    text = (folder / page).read_text(encoding="utf-8", errors="replace")
    m = _REDIRECT.search(text)
    return m.group(1) if m and len(text) < 500 else None


def check_page(context, base: str, folder: Path, page: str, screenshots: Path | None) -> PageResult:
    result = PageResult(page)
    start = time.monotonic()
    target = redirect_target(folder, page)
    if target is not None:
        result.counts = {"redirect": target}
        path = urlsplit(target).path
        if not (folder / page).parent.joinpath(unquote(path)).is_file():
            result.failures.append(Failure(page, "link", "meta refresh", f"missing target file: {target}"))
        return result
    tab = context.new_page()
    events: list[Failure] = []
    tab.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource")
           and events.append(Failure(page, "console", "console.error", m.text[:200])))
    tab.on("pageerror", lambda e: events.append(Failure(page, "console", "uncaught exception", str(e)[:200])))
    tab.on("response", lambda r: r.status >= 400 and r.url.startswith(base)
           and events.append(Failure(page, "offline", f"HTTP {r.status}", r.url[len(base):])))
    tab.on("requestfailed", lambda r: r.url.startswith(base)
           and events.append(Failure(page, "offline", "request failed", f"{r.url[len(base):]} ({r.failure})")))
    try:
        tab.goto(base + page, wait_until="load", timeout=60_000)
        tab.evaluate("""async () => {
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
            if (document.fonts) await document.fonts.ready;
        }""")
        out = tab.evaluate(PAGE_JS, ALLOWED_SHADOWS)
        result.counts = out["counts"]
        result.failures += [Failure(page, f["kind"], f["element"], f["detail"]) for f in out["failures"]]
        if out["counts"]["scripts"] > MAX_SCRIPTS:
            result.failures.append(Failure(page, "scripts", "script[src]",
                                           f"{out['counts']['scripts']} scripts (at most {MAX_SCRIPTS})"))
        result.failures += check_links(page, out["links"], set(out["ids"]), base, folder)
        result.counts["links"] = len(out["links"])
        if screenshots:
            tab.screenshot(path=str(screenshots / screenshot_name(page)), full_page=True, timeout=120_000,
                           quality=SHOT_QUALITY)
    except Exception as exc:  # a page that does not load or times out is a failure, not a crash
        result.failures.append(Failure(page, "load", "page", f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"))
    finally:
        tab.close()
    result.failures += events
    result.seconds = time.monotonic() - start
    return result


def check_menu(context, base: str, page: str, screenshots: Path | None) -> PageResult:
    """At 400 px the sidebar is hidden, and pressing the menu button shows its links."""
    result = PageResult(f"{page} @ {NARROW['width']}px")
    start = time.monotonic()
    tab = context.new_page()
    tab.set_viewport_size(NARROW)
    try:
        tab.goto(base + page, wait_until="load", timeout=60_000)
        tab.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
        name = screenshot_name(page).removesuffix(".jpg")
        if screenshots:
            tab.screenshot(path=str(screenshots / f"{name}-{NARROW['width']}px.jpg"), full_page=True, quality=SHOT_QUALITY)
        before = tab.evaluate(VISIBLE_SIDEBAR_JS, SIDEBAR_LINKS)
        buttons = [b for b in tab.query_selector_all(MENU_BUTTON) if b.is_visible()]
        result.counts = {"buttons": len(buttons), "links_before": before}
        if before:
            result.failures.append(Failure(result.page, "menu", "sidebar", f"{before} sidebar links visible before pressing the menu button"))
        if not buttons:
            result.failures.append(Failure(result.page, "menu", MENU_BUTTON, "no visible menu button"))
        else:
            buttons[0].click()
            tab.wait_for_timeout(600)  # the sidebar slides in
            after = tab.evaluate(VISIBLE_SIDEBAR_JS, SIDEBAR_LINKS)
            result.counts["links_after"] = after
            if screenshots:
                tab.screenshot(path=str(screenshots / f"{name}-{NARROW['width']}px-menu.jpg"), quality=SHOT_QUALITY)
            if not after:
                result.failures.append(Failure(result.page, "menu", MENU_BUTTON, "pressing the menu button showed no sidebar links"))
    except Exception as exc:
        result.failures.append(Failure(result.page, "load", "page", f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"))
    finally:
        tab.close()
    result.seconds = time.monotonic() - start
    return result


def check_site(folder: Path, pages: list[str] | None = None, screenshots: Path | None = None,
               narrow_pages: list[str] = (NARROW_PAGE,), log=print) -> list[PageResult]:
    """Check `pages` (default: every page) of the site in `folder`, then the menu on `narrow_pages`.

    Returns one result per page and one per menu check."""
    from playwright.sync_api import sync_playwright

    folder = Path(folder).resolve()
    pages = list_pages(folder) if pages is None else pages
    if screenshots:
        screenshots.mkdir(parents=True, exist_ok=True)
    results: list[PageResult] = []
    with Server(folder) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=WIDE, service_workers="block")
        blocked: list[tuple[str, str]] = []

        def route(r):
            if r.request.url.startswith(server.base):
                r.continue_()
            else:
                blocked.append((r.request.frame.url if r.request.frame else "", r.request.url))
                r.abort("blockedbyclient")

        context.route("**/*", route)
        for page in pages:
            blocked.clear()
            res = check_page(context, server.base, folder, page, screenshots)
            res.failures += [Failure(page, "offline", "request to another host", url[:200]) for _, url in blocked]
            results.append(res)
            log(summary_line(res))
        for page in narrow_pages:
            res = check_menu(context, server.base, page, screenshots)
            results.append(res)
            log(summary_line(res))
        browser.close()
    return results


def summary_line(res: PageResult) -> str:
    counts = " ".join(f"{k}={v}" for k, v in res.counts.items())
    status = "ok  " if not res.failures else f"FAIL {len(res.failures):3d}"
    return f"{status} {res.page:<50s} {res.seconds:5.1f}s  {counts}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pages", nargs="*", help="pages relative to the HTML folder (default: all)")
    ap.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    ap.add_argument("--screenshots", type=Path, default=ROOT / "_build" / "screenshots")
    ap.add_argument("--no-screenshots", action="store_true")
    ap.add_argument("--narrow-page", default=NARROW_PAGE, help="page for the 400 px menu check ('' to skip)")
    args = ap.parse_args(argv)
    if not (args.html / "index.html").is_file():
        print(f"no built book in {args.html}: run `make book` first", file=sys.stderr)
        return 2
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: apt-get install chromium", file=sys.stderr)
        return 2
    start = time.monotonic()
    results = check_site(args.html, args.pages or None, None if args.no_screenshots else args.screenshots,
                         [args.narrow_page] if args.narrow_page else [])
    failures = [f for r in results for f in r.failures]
    by_kind: dict[str, int] = {}
    for f in failures:
        by_kind[f.kind] = by_kind.get(f.kind, 0) + 1
    print(f"\n{len(results)} checks ({sum(1 for r in results if not r.failures)} ok), {len(failures)} failures"
          + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())) + ")" if failures else "")
          + f", {time.monotonic() - start:.0f}s")
    for f in failures:
        print(f"  {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
