"""The documentation site builds under --strict, its API page shows cn.explain's every argument in a real browser, the
layout page names every module, and no link of a built page to a file inside the site is broken."""

import inspect
import os
import pathlib
import posixpath
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import pytest
from conftest import ROOT, headless_chromium

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
    page = (site / "layout.html").read_text(encoding="utf-8")
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
