"""tools/check_html.py catches what it claims to catch, on tiny synthetic pages (not the book).

Needs Playwright and Debian's Chromium; skipped without them. The MathJax case also needs
the MathJax that `make book` copies into _build/vendor, and is skipped before that.
"""

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("playwright")

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("check_html", ROOT / "tools" / "check_html.py")
check_html = sys.modules["check_html"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_html)

pytestmark = pytest.mark.skipif(not Path(check_html.CHROMIUM).exists(), reason=f"{check_html.CHROMIUM} not installed")

MATHJAX = ROOT / "_build" / "vendor" / "mathjax"

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>t</title>{head}</head>
<body><main><article class="bd-article" style="width: 400px">{body}</article></main></body></html>"""

BROKEN = PAGE.format(head="", body=r"""
<section id="math">
  <p>A formula MathJax rejected: <mjx-container class="MathJax" jax="CHTML"><mjx-merror
     data-mjx-error="Undefined control sequence \foo">\foo</mjx-merror></mjx-container></p>
  <p>A formula nobody typeset: \(x^2\)</p>
</section>
<pre id="wide">x = 1  # """ + "a_long_comment_" * 20 + """</pre>
<img id="missing" src="missing.png">
<img id="cdn" src="http://cdn.example.invalid/logo.png">
<a id="nofile" href="nowhere.html">nowhere</a>
<a id="noanchor" href="fine.html#not-there">not there</a>
<script>console.error("boom")</script>
""")

FINE = PAGE.format(head="", body=r"""
<section id="here">
  <p>Fine. Code may hold TeX: <code>\(x\)</code> and <code>$$</code>.</p>
  <pre>short = 1</pre>
  <pre style="white-space: pre-wrap">wrapped = 1  # """ + "a_long_comment " * 20 + """</pre>
  <a href="fine.html#here">here</a> <a href="broken.html#wide">there</a>
</section>""")

# The 400 px menu check: a sidebar whose button shows it, and one whose button does nothing.
MENU = PAGE.format(head="<style>.bd-sidebar-primary {{ display: none }} .open {{ display: block }}</style>", body="""
<button class="primary-toggle" onclick="{action}">menu</button>
<div class="bd-sidebar-primary"><a class="reference" href="fine.html">Chapter 1</a></div>""")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=fine.html" />')
    (root / "broken.html").write_text(BROKEN)
    (root / "fine.html").write_text(FINE)
    (root / "menu_works.html").write_text(
        MENU.format(action="document.querySelector('.bd-sidebar-primary').classList.add('open')"))
    (root / "menu_broken.html").write_text(MENU.format(action=""))
    return root


def run(root: Path, pages: list[str], narrow_pages: list[str] = (), tmp_path: Path | None = None):
    results = check_html.check_site(root, pages, screenshots=tmp_path, narrow_pages=narrow_pages, log=lambda s: None)
    return {r.page: r for r in results}


def kinds(result) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in result.failures:
        out.setdefault(f.kind, []).append(f"{f.element}: {f.detail}")
    return out


def test_each_fault_is_caught_with_its_element(site, tmp_path):
    res = run(site, ["broken.html", "fine.html", "index.html"], tmp_path=tmp_path)
    found = kinds(res["broken.html"])
    assert any("Undefined control sequence" in f for f in found["math"]), found
    assert any(r"\(" in f for f in found["tex"]), found
    assert any(f.startswith("code pre pre#wide") for f in found["overflow"]), found
    assert any("img#missing" in f for f in found["image"]) and any("img#cdn" in f for f in found["image"]), found
    assert any("cdn.example.invalid" in f for f in found["offline"]), found
    assert any("missing.png" in f for f in found["offline"]), found          # the local 404
    assert any("a#nofile" in f and "nowhere.html" in f for f in found["link"]), found
    assert any("a#noanchor" in f and "not-there" in f for f in found["link"]), found
    assert any("boom" in f for f in found["console"]), found
    assert not res["fine.html"].failures, res["fine.html"].failures
    assert not res["index.html"].failures and res["index.html"].counts == {"redirect": "fine.html"}
    assert (tmp_path / "broken.jpg").is_file() and (tmp_path / "fine.jpg").is_file()


def test_menu_button_must_open_the_sidebar(site):
    res = run(site, [], narrow_pages=["menu_works.html", "menu_broken.html"])
    assert not res["menu_works.html @ 400px"].failures, res
    assert [f.kind for f in res["menu_broken.html @ 400px"].failures] == ["menu"], res


@pytest.mark.skipif(not (MATHJAX / "tex-mml-chtml.js").is_file(), reason="MathJax not vendored yet: run `make book`")
def test_a_self_referencing_or_shadowing_macro_is_caught(tmp_path):
    """The two faults the book shipped with: \\Xi defined through itself, \\sim redefined."""
    shutil.copytree(MATHJAX, tmp_path / "mathjax")
    config = r"""<script>window.MathJax = {tex: {macros: {Xi: "\\boldsymbol{\\Xi}", sim: "\\operatorname{sim}",
                                                   simil: "\\operatorname{sim}"}}};</script>
                 <script defer src="mathjax/tex-mml-chtml.js"></script>"""
    (tmp_path / "macros.html").write_text(PAGE.format(head=config, body=r"""
        <p><span class="math">\(\Xi\)</span> and <span class="math">\(x \sim p\)</span>
        and <span class="math">\(\simil(x, y)\)</span></p>"""))
    found = kinds(run(tmp_path, ["macros.html"])["macros.html"])
    assert len(found["math"]) == 1 and r"in: \Xi" in found["math"][0], found
    assert [f.split(":")[0] for f in found["macro"]] == [r"\sim"], found  # \Xi is allowed to be bold
