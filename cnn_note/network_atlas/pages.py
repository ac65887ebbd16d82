"""The atlas's pages as HTML: pure functions from what a page shows to its text (site.py writes them and the pictures).

Every name that comes from the user (layers, classes, inputs) is escaped here; hrefs are built from indices and slugs.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

STRIP = 8  # units' pictures in each layer's row of the index
LETTER = 6  # pixels a character of a histogram's text takes at most, about, at font-size 10

STYLE = """*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:0 auto;padding:8px;max-width:1100px;line-height:1.35;overflow-wrap:anywhere}
img{max-width:100%;image-rendering:pixelated;background:#888}
nav{display:flex;flex-wrap:wrap;gap:12px;margin:6px 0}
.grid{display:flex;flex-wrap:wrap;gap:8px}
.tile{display:flex;flex-direction:column;align-items:center;font-size:12px;text-decoration:none;color:inherit}
.tile img{width:72px;height:72px}
.big img{width:160px;height:160px}
.scroll{max-width:100%;overflow-x:auto}
table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
.strip{display:flex;flex-wrap:wrap;gap:2px}.strip img{width:28px;height:28px}
figure{margin:0}
.example{position:relative;outline:none}
.whole{display:none;position:relative;margin-top:4px}
.example:hover .whole,.example:focus .whole,.example:focus-within .whole{display:inline-block}
.whole img{width:120px;height:auto}
.box{position:absolute;border:2px solid #e00;pointer-events:none}
svg{max-width:100%;height:auto}
"""

KEYS = """// Arrow keys: left and right to the previous and next unit, up to the layer (or the index).
document.addEventListener("keydown", function (event) {
  if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
  var id = {ArrowLeft: "prev", ArrowRight: "next", ArrowUp: "up"}[event.key];
  var link = id ? document.getElementById(id) : null;
  if (link) { window.location.href = link.href; }
});
"""


def e(text) -> str:
    """User text, escaped for HTML (attributes too)."""
    return html.escape(str(text), quote=True)


def page(title: str, body: str, root: str = "") -> str:
    """A whole HTML page: its style sheet and the arrow-key script beside it, `root` the way back to the site's top."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
            f'<title>{e(title)}</title><link rel="stylesheet" href="{root}style.css"></head>\n'
            f'<body>\n{body}\n<script src="{root}nav.js"></script>\n</body></html>\n')


def link(href: str, text: str, id_: str | None = None) -> str:
    """An <a> with escaped text (href is ours: built from indices and slugs)."""
    anchor = f' id="{id_}"' if id_ else ""
    return f'<a href="{e(href)}"{anchor}>{e(text)}</a>'


def histogram_svg(counts: np.ndarray, edges: np.ndarray, marked: float | None) -> str:
    """An inline SVG of one unit's histogram, a red line where the optimised picture's strongest response falls."""
    width, height, bins = 300, 110, len(counts)
    top = max(int(counts.max()), 1)
    bars = "".join(f'<rect x="{i * width / bins:.1f}" y="{height - 20 - 80 * c / top:.1f}" width="{width / bins - 1:.1f}" '
                    f'height="{80 * c / top:.1f}" fill="#47a"/>' for i, c in enumerate(counts))
    line = ""
    if marked is not None:
        low, high = float(edges[0]), float(edges[-1])
        x = min(max((marked - low) / (high - low), 0.0), 1.0) * width
        beyond = " (off the scale)" if not low <= marked <= high else ""
        label = f"picture {marked:.2f}{beyond}"
        wide = LETTER * len(label)  # about: the label stays inside however it is drawn, beside the line where it fits
        at, anchor = (max(x - 3, wide), ' text-anchor="end"') if x > width / 2 else (min(x + 3, width - wide), "")
        line = (f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height - 20}" stroke="#e00" stroke-width="2"/>'
                f'<text x="{at:.1f}" y="10" font-size="10" fill="#e00"{anchor}>{label}</text>')
    labels = (f'<text x="0" y="{height - 5}" font-size="10">{edges[0]:.2f}</text>'
              f'<text x="{width}" y="{height - 5}" font-size="10" text-anchor="end">{edges[-1]:.2f}</text>')
    return (f'<svg viewBox="0 0 {width} {height}" width="{width}" role="img" '
            f'aria-label="histogram of the strongest response">{bars}{line}{labels}</svg>')


@dataclass(frozen=True)
class Example:
    """One dataset example as a unit's page shows it: its crop, its label and activation, the whole input, its box."""

    crop: str  # the crop's file, beside the unit's page
    label: str
    value: float
    whole: str  # the whole input's file, from the site's top
    box: tuple[float, float, float, float]  # top, left, height, width: percentages of the whole input


def examples_html(examples: list[Example]) -> str:
    """A unit's top or bottom examples: each crop with its activation, the whole input with the field boxed on hover."""
    items = []
    for example in examples:
        top, left, height, width = example.box
        box = f"top:{top:.2f}%;left:{left:.2f}%;height:{height:.2f}%;width:{width:.2f}%"
        items.append(f'<figure class="example tile" tabindex="0"><img src="{example.crop}" alt="{e(example.label)}">'
                     f"<figcaption>{e(example.label)}<br>{example.value:.2f}</figcaption>"
                     f'<span class="whole"><img src="../{example.whole}" alt="{e(example.label)}, whole">'
                     f'<span class="box" style="{box}"></span></span></figure>')
    return f'<div class="grid">{"".join(items)}</div>'


def nav(up: str, previous: str | None = None, following: str | None = None) -> str:
    """The links to the previous page, up and the next page (each an <a> from link()), with the ids the arrow keys use."""
    return f"<nav>{''.join(part for part in (previous, up, following) if part)}</nav>"
