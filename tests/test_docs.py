"""The documentation site builds under --strict, its API page shows cn.explain's every argument in a real browser, the
layout page names every module, and no link of a built page to a file inside the site is broken. Every page, opened in
a browser from disk and over http at a phone's width and a desktop's, asks no other site for anything, logs no error,
hides no code behind an edge and breaks no name over two lines."""

import importlib.util
import inspect
import os
import pathlib
import posixpath
import re
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import pytest
from conftest import ROOT, headless_chromium, static_server

# Debian's chromium and chromium-driver, driven by Selenium, as tests/network_atlas/test_atlas.py drives them.


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> pathlib.Path:
    """The site as CI builds it (mkdocs build --strict), into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                           capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert built.returncode == 0, built.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium with a new empty profile (see conftest.headless_chromium)."""
    driver = headless_chromium(str(tmp_path_factory.mktemp("chromium-profile")), 1280, 900)
    yield driver
    driver.quit()


@pytest.mark.slow
def test_the_api_page_lists_every_argument_of_cn_explain(browser, site):  # the browser first: without one, no build
    from selenium.webdriver.common.by import By

    import cnn_note.api

    # What the function takes, from the function itself; **how is written **how in the docs, as in the signature.
    wanted = [("**" if parameter.kind is parameter.VAR_KEYWORD else "") + name
              for name, parameter in inspect.signature(cnn_note.api.explain).parameters.items()]
    browser.get((site / "reference" / "api.html").as_uri())
    heading = browser.find_element(By.ID, "cnn_note.api.explain")
    assert heading.is_displayed() and heading.text.startswith("explain")
    # The first cell of each row of the table under "Parameters:" in explain's own section (the theme's script wraps
    # each table in a scrolling box once the page has loaded, so the table is the next element or inside it).
    cells = heading.find_elements(By.XPATH, "following-sibling::div[contains(@class, 'doc-contents')][1]"
                                            "/p[span[normalize-space()='Parameters:']]/following-sibling::*[1]"
                                            "/descendant-or-self::table[1]/tbody/tr/td[1]/code")
    shown = [cell.text for cell in cells]
    assert shown == wanted, {"in the signature, not on the page": set(wanted) - set(shown),
                             "on the page, not in the signature": set(shown) - set(wanted)}


@pytest.mark.slow
def test_the_layout_page_names_every_module(site):
    # As a reader sees it: the tags the docs' hook puts inside long names (<wbr>, <span class="unbroken">) left out.
    page = re.sub(r"<[^>]+>", "", (site / "layout.html").read_text(encoding="utf-8"))
    package = pathlib.Path(ROOT, "cnn_note")
    modules = sorted(path.relative_to(package).as_posix() for path in package.rglob("*.py")
                     if path.name != "__init__.py" and "__pycache__" not in path.parts)
    assert len(modules) >= 40
    # A subpackage's module by its path in the package (core/views.py), a top-level one by its path in the checkout.
    missing = [module for module in modules if (module if "/" in module else f"cnn_note/{module}") not in page]
    assert not missing, f"docs/layout.md does not name {', '.join(missing)}"


class Links(HTMLParser):
    """Every href and src of a page."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.found += [value for name, value in attrs if name in ("href", "src") and value]


def broken_links(site: pathlib.Path) -> list[str]:
    """Each link of a built page (every .html file of the site, the committed atlas's included) that points at a file of
    the site, or leaves it by a relative path, and finds nothing there."""
    broken = []
    for page in sorted(site.rglob("*.html")):
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        here = page.parent.relative_to(site).as_posix()
        for link in parser.found:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path:  # another site, data:, mailto:, or #an-anchor on this page
                continue
            # A path from the root (the 404 page's, which any folder may serve) is read from the site's root.
            path = unquote(parts.path)
            target = posixpath.normpath(path.lstrip("/") if path.startswith("/") else posixpath.join(here, path))
            if target == ".." or target.startswith("../") or not (site / target).is_file():
                broken.append(f"{page.relative_to(site)}: {link}")
    return broken


@pytest.mark.slow
def test_no_internal_link_is_broken(site):
    assert (site / "index.html").is_file() and (site / "reference" / "api.html").is_file() and (site / "tour.html").is_file()
    assert not broken_links(site)


def test_a_broken_link_is_found(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "there.png").write_bytes(b"")
    (tmp_path / "sub" / "page.html").write_text('<a href="../there.png#x">ok</a> <img src="../gone.png"> <a href="#top">ok</a> '
                                                 '<a href="https://example.org/">ok</a> <a href="../../README.md">out</a>')
    assert broken_links(tmp_path) == ["sub/page.html: ../gone.png", "sub/page.html: ../../README.md"]


# Every page in a reader's browser. The site is read offline as often as not (from disk, as the atlas is): a page that
# asks another site for a font or a script logs an error there and shows something else than it does online.

HOOKS_SPEC = importlib.util.spec_from_file_location("docs_hooks", os.path.join(ROOT, "docs", "hooks.py"))
hooks = importlib.util.module_from_spec(HOOKS_SPEC)
HOOKS_SPEC.loader.exec_module(hooks)

WIDTHS = (390, 1280)  # a phone's, a desktop's
ORIGINS = ("disk", "http")


def pages(site: pathlib.Path) -> list[str]:
    """Every page MkDocs built, by its path in the site (the committed atlas under results/atlas/ is a site of its own,
    which tests/network_atlas tests)."""
    return sorted(path for path in (page.relative_to(site).as_posix() for page in site.rglob("*.html"))
                  if not path.startswith("results/atlas/"))


# Links a reader follows, not resources the page loads.
NAVIGATION = {"next", "prev", "canonical", "alternate", "author", "license", "help"}
OFF_SITE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)  # http://, https://, //host: anything but file, data, blob
URL_IN_CODE = re.compile(r"""(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s"'`)]*""", re.I)
CSS_URL = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])((?:https?:)?//[^"')\s]+)""", re.I)
NAMESPACES = ("http://www.w3.org/",)  # names in SVG and XML, never fetched


class Resources(HTMLParser):
    """What a page loads: the resource URLs of its tags, and the URLs in the text of its scripts and styles."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self.inside: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and not set((attrs.get("rel") or "").lower().split()) <= NAVIGATION:
            self.found.append(attrs.get("href") or "")
        for name in ("src", "poster", "data", "srcset", "imagesrcset"):
            self.found += [url.split()[0] for url in (attrs.get(name) or "").split(",") if url.strip()]
        self.found += CSS_URL.findall(attrs.get("style") or "")
        self.inside = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self.inside = None

    def handle_data(self, data):
        if self.inside == "script":
            self.found += URL_IN_CODE.findall(data)
        elif self.inside == "style":
            self.found += CSS_URL.findall(data)


def off_site_resources(site: pathlib.Path) -> list[str]:
    """Each URL of another site that a page of the site or one of its stylesheets loads, or that a script on a page
    names, as 'page: URL'."""
    found = []
    for page in pages(site):
        parser = Resources()
        parser.feed((site / page).read_text(encoding="utf-8", errors="replace"))
        found += [f"{page}: {url}" for url in parser.found if OFF_SITE.match(url) and not url.startswith(NAMESPACES)]
    for sheet in sorted(site.rglob("*.css")):
        if not sheet.relative_to(site).as_posix().startswith("results/atlas/"):
            found += [f"{sheet.relative_to(site)}: {url}" for url in CSS_URL.findall(sheet.read_text(errors="replace"))]
    return found


@pytest.mark.slow
def test_no_page_loads_anything_from_another_site(site):
    assert not off_site_resources(site)


def test_a_resource_on_another_site_is_found(tmp_path):
    (tmp_path / "page.html").write_text(
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto"><link rel="preconnect" '
        'href="https://fonts.gstatic.com"><link rel="next" href="https://example.org/"><a href="https://example.org/">a'
        '</a><img src="//cdn.example.org/i.png"><img src="data:image/png;base64,AA"><svg xmlns="http://www.w3.org/2000/svg">'
        '</svg><script>import("https://cdnjs.cloudflare.com/m.mjs")</script><style>@import "https://x.org/a.css";</style>')
    (tmp_path / "site.css").write_text("a { background: url(https://x.org/b.png) } b { background: url(b.png) }")
    assert off_site_resources(tmp_path) == [
        "page.html: https://fonts.googleapis.com/css?family=Roboto", "page.html: https://fonts.gstatic.com",
        "page.html: //cdn.example.org/i.png", "page.html: https://cdnjs.cloudflare.com/m.mjs",
        "page.html: https://x.org/a.css", "site.css: https://x.org/b.png"]


def test_names_are_marked_to_be_kept_whole():
    mark = hooks.CODE.sub
    # Inline code with no space: whole; with spaces: each run with somewhere to break in it (not a bare word, not one
    # ending in a comma); a run longer than SHORT: a <wbr> after its slashes and dots, no span.
    assert mark(hooks.unbroken, "<td><code>cn.class_pictures(model)</code></td>") == \
        '<td><code class="unbroken">cn.class_pictures(model)</code></td>'
    assert mark(hooks.unbroken, "<p><code>python train_cnn.py --seeds 3, --mixed-precision</code></p>") == \
        '<p><code>python <span class="unbroken">train_cnn.py</span> <span class="unbroken">--seeds</span> 3, ' \
        '<span class="unbroken">--mixed-precision</span></code></p>'
    assert mark(hooks.unbroken, "<code>~/.keras/models/imagenet_class_index.json</code>") == \
        "<code>~/<wbr>.<wbr>keras/<wbr>models/<wbr>imagenet_class_index.<wbr>json</code>"
    # In a highlighted block a span goes around the highlighter's elements of the run where they nest in it, and around
    # each piece of it where they do not.
    block = ('<pre><code><span class="n">mnist</span><span class="p">[</span><span class="mi">1</span><span class="p">]'
             '</span> <span class="s2">"a b-c"</span><span class="p">)</span>\n</code></pre>')
    assert mark(hooks.unbroken, block) == (
        '<pre><code><span class="unbroken"><span class="n">mnist</span><span class="p">[</span><span class="mi">1</span>'
        '<span class="p">]</span></span> <span class="s2">"a <span class="unbroken">b-c"</span></span><span class="p">'
        '<span class="unbroken">)</span></span>\n</code></pre>')


# What the browser finds on a page: the resources it fetched from another site (the Resource Timing entries: a request
# that failed offline is one too), and, in the page's content, code whose text lies behind an edge (a code block wider
# inside than its box, or a run of code text outside a box that clips it or the window; a table's scrolling wrapper
# lets a reader reach what is in it) and names broken over two lines (a run of code text between spaces of up to SHORT
# characters on two lines, a longer one going on after anything but hooks.WRAP_AFTER or a hyphen).
PAGE_CHECKS = r"""
const [SHORT, WRAP_AFTER] = arguments;
const requests = performance.getEntriesByType("resource").map(entry => entry.name)
  .filter(url => !/^(file|data|blob):/.test(url) && new URL(url).host !== location.host);
const content = document.querySelector(".md-content") || document.body;
const viewport = document.documentElement.clientWidth;
const boxes = range => [...range.getClientRects()].filter(rect => rect.width > 0 && rect.height > 0);
const runsOf = element => {
  const runs = [], walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  let start = null, end = null;
  const close = () => {
    if (start) { const range = document.createRange(); range.setStart(...start); range.setEnd(...end); runs.push(range); }
    start = null;
  };
  for (let node; (node = walker.nextNode());)
    for (let i = 0; i < node.data.length; i++) {
      if (/\s/.test(node.data[i])) { close(); continue; }
      if (!start) start = [node, i];
      end = [node, i + 1];
    }
  close();
  return runs;
};
const breaksIn = run => {  // the run, with a mark where each line of it ends
  const found = [], text = run.toString(), walker = document.createTreeWalker(content, NodeFilter.SHOW_TEXT);
  let previous = null, index = 0;
  walker.currentNode = run.startContainer;
  for (let node = run.startContainer; node; node = walker.nextNode()) {
    for (let i = 0; i < node.data.length; i++) {
      if (run.comparePoint(node, i) !== 0 || run.comparePoint(node, i + 1) !== 0) continue;
      const character = document.createRange(); character.setStart(node, i); character.setEnd(node, i + 1);
      const rect = boxes(character)[0];
      if (rect && previous && rect.top - previous.top > previous.height / 2) found.push(index);
      if (rect) previous = rect;
      index++;
    }
    if (node === run.endContainer) break;
  }
  return found.map(at => [text.slice(0, at) + "\u23ce" + text.slice(at), text[at - 1]]);
};
const clipsOf = new Map();
const clips = element => {  // the boxes that clip a text in `element`, up to one that scrolls it, or else the window
  if (clipsOf.has(element)) return clipsOf.get(element);
  const found = [];
  let scrolls = false;
  for (let box = element; box && box !== document.body && !scrolls; box = box.parentElement) {
    const overflow = getComputedStyle(box).overflowX;
    scrolls = overflow === "auto" || overflow === "scroll";
    if (!scrolls && overflow !== "visible") {
      const left = box.getBoundingClientRect().left + box.clientLeft;
      found.push([left, left + box.clientWidth]);
    }
  }
  if (!scrolls) found.push([0, viewport]);
  clipsOf.set(element, found);
  return found;
};
const hidden = new Set(), broken = new Set();
for (const block of content.querySelectorAll("pre, pre > code"))
  if (block.scrollWidth > block.clientWidth + 1)
    hidden.add(`a code block ${block.scrollWidth - block.clientWidth} px wider than its box: ${block.textContent.trim().slice(0, 60)}`);
for (const element of content.querySelectorAll("pre, code")) {
  if (element.tagName === "CODE" && element.closest("pre")) continue;
  for (const run of runsOf(element)) {
    const rects = boxes(run);
    if (!rects.length) continue;
    const edges = clips(run.startContainer.parentElement);
    if (rects.some(rect => edges.some(([left, right]) => rect.left < left - 1 || rect.right > right + 1)))
      hidden.add(run.toString());
    const tops = rects.map(rect => rect.top);
    if (Math.max(...tops) - Math.min(...tops) <= Math.min(...rects.map(rect => rect.height)) / 2) continue;
    const text = run.toString();
    for (const [at, after] of breaksIn(run))
      if (text.length <= SHORT || !(WRAP_AFTER + "-").includes(after)) broken.add(at);
  }
}
return {requests, hidden: [...hidden], broken: [...broken]};
"""


@pytest.fixture(scope="module")
def seen(site, tmp_path_factory):
    """What one Chromium (a new empty profile, its console kept) finds on every page, at each width, opened from disk
    and over http (python -m http.server on 127.0.0.1): {(origin, width): {page: findings}}, each page loaded once
    for all the tests below. Not 404.html from disk: a web server shows it for any missing path, so its links start
    at the site's root, which on disk is the disk's."""
    driver = headless_chromium(str(tmp_path_factory.mktemp("chromium-pages")), WIDTHS[0], 900, console=True)
    found = {}
    try:
        with static_server(str(site)) as url:
            for width in WIDTHS:
                driver.set_window_size(width, 900)
                for origin in ORIGINS:
                    base = site.as_uri() if origin == "disk" else url
                    for page in pages(site):
                        if origin == "disk" and page == "404.html":
                            continue
                        driver.get_log("browser")  # what the page before left
                        driver.get(f"{base}/{page}")
                        findings = driver.execute_script(PAGE_CHECKS, hooks.SHORT, hooks.WRAP_AFTER)
                        findings["errors"] = [entry["message"] for entry in driver.get_log("browser")
                                              if entry["level"] == "SEVERE"]
                        found.setdefault((origin, width), {})[page] = findings
    finally:
        driver.quit()
    return found


def findings(seen, origin: str, width: int, kind: str) -> dict[str, list[str]]:
    """The pages with something of `kind` at `width` from `origin`, and what."""
    assert len(seen[origin, width]) >= 20
    return {page: found[kind] for page, found in seen[origin, width].items() if found[kind]}


VIEWS = pytest.mark.parametrize("origin, width", [(origin, width) for origin in ORIGINS for width in WIDTHS])


@pytest.mark.slow
@VIEWS
def test_no_page_asks_another_site_for_anything(seen, origin, width):
    assert not findings(seen, origin, width, "requests")


@pytest.mark.slow
@VIEWS
def test_no_page_logs_an_error(seen, origin, width):
    assert not findings(seen, origin, width, "errors")


@pytest.mark.slow
@VIEWS
def test_no_code_hides_behind_an_edge(seen, origin, width):
    assert not findings(seen, origin, width, "hidden")


@pytest.mark.slow
@VIEWS
def test_no_name_is_broken_over_two_lines(seen, origin, width):
    assert not findings(seen, origin, width, "broken")
