"""The atlas's pages from a small hand-made plan and arrays: every page, every link, every number, and nothing unescaped."""

from __future__ import annotations

import dataclasses
import html
import os
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from cnn_note import dataset_examples
from cnn_note.backend import keras
from cnn_note.dataset_examples import Examples
from cnn_note.errors import InputError
from cnn_note.network_atlas import site
from cnn_note.network_atlas.plan import Plan
from cnn_note.network_atlas.plan import plan as make_plan
from cnn_note.network_atlas.units import UnitPictures, save_unit
from cnn_note.results import Pictures

HOSTILE = 'c<img src=x onerror="window.hacked=1">'  # a layer name Keras accepts; the pages must show it as text
NAMES = ['<script>alert("cat")</script>', "dog & 'fox'", '"><img src=y onerror=alert(2)>']  # class names, as given
INPUTS = [f'in{k}<img src=z{k} onerror="x">' for k in range(6)]  # the inputs' names, as a folder's file names
LAYERS = ["conv_a", HOSTILE]
UNITS = {"conv_a": 3, HOSTILE: 4}
COUNT = 2  # examples each way


def tiny_model():
    """12x12 grey pictures -> conv_a (3 units, 3x2, ReLU) -> pool -> the hostile conv (4 units) -> 3 softmax classes."""
    keras.utils.set_random_seed(5)
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(3, (3, 2), activation="relu", name="conv_a")(inputs)  # not square: height and width tell apart
    x = keras.layers.MaxPooling2D(2, name="pool_a")(x)
    x = keras.layers.Conv2D(4, 3, name=HOSTILE)(x)
    x = keras.layers.Dense(3, activation="softmax", name="scores")(keras.layers.Flatten(name="flat")(x))
    return keras.Model(inputs, x, name="tiny")


class Page(HTMLParser):
    """One page parsed: every start tag with its attributes (unescaped, as a browser reads them), the text shown, and the
    text inside each element."""

    VOID = {"meta", "link", "img", "br"}

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.texts: list[str] = []
        self.elements: list[tuple[str, list[str]]] = []  # (tag, its text), in the order they open
        self.open: list[tuple[str, list[str]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append((tag, []))
            self.elements.append(self.open[-1])

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data):
        self.texts.append(data)
        for _, parts in self.open:
            parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]

    def inside(self, tag: str) -> list[str]:
        """The text of every `tag` element, in order."""
        return ["".join(parts) for name, parts in self.elements if name == tag]

    def by_id(self, id_: str) -> dict | None:
        return next((attrs for _, attrs in self.tags if attrs.get("id") == id_), None)


def read(out, relative: str) -> str:
    with open(os.path.join(out, relative), encoding="utf-8") as handle:
        return handle.read()


def parsed(out, relative: str) -> Page:
    return Page(read(out, relative))


def picture(index: int) -> np.ndarray:
    """Input `index`: a 12x12 grey picture of its own."""
    return np.random.default_rng(100 + index).random((12, 12, 1)).astype("float32")


def crop(seed: int, height: int, width: int | None = None) -> np.ndarray:
    return np.random.default_rng(seed).random((height, width or height, 1)).astype("float32")


@dataclasses.dataclass
class Made:
    """A site written from hand-made arrays, and those arrays."""

    out: str
    plan: Plan
    pictures: dict
    ranked: dict
    counts: dict
    optimised: dict
    links: dict
    contributions: dict
    class_page: tuple | None

    def key(self, layer: str) -> str:
        return self.plan.keys[layer]


def hand_made(out: str, examples: bool = True, classes: bool = True, write: bool = True, connections: int = 2) -> Made:
    """The tiny model's plan (as make.plan settles it) with a source of 6 named inputs, and arrays for every part of the
    site: conv_a's examples are crops of the inputs, the hostile layer's whole inputs shown shrunk."""
    rng = np.random.default_rng(6)
    plan = make_plan(tiny_model(), out, None, examples=0, class_names=NAMES, class_inputs=5, connections=connections, log=lambda line: None)
    source = dataset_examples.Source(6, picture, INPUTS, 'six <b>"inputs"</b>') if examples else None
    plan = dataclasses.replace(plan, examples=COUNT if examples else 0, source=source)
    pictures = {layer: UnitPictures(activation=rng.normal(size=units), negative_activation=rng.normal(size=units) - 3)
                for layer, units in UNITS.items()}
    for number, (layer, units) in enumerate(UNITS.items()):
        os.makedirs(os.path.join(out, plan.keys[layer]), exist_ok=True)
        for unit in range(units):  # what make writes before the site: each unit's two pictures (and its arrays)
            seed = 100 * number + 10 * unit
            save_unit(plan, layer, unit, UnitPictures(crop(seed, 12), pictures[layer].activation[unit], crop(seed + 1, 12),
                                                      pictures[layer].negative_activation[unit]))
    ranked, counts, optimised = {}, {}, {}
    if examples:
        for number, (layer, units) in enumerate(UNITS.items()):
            whole = layer == HOSTILE
            top = np.array([[(unit + slot) % 6 for slot in range(COUNT)] for unit in range(units)])
            bottom = np.array([[(unit + 3 + slot) % 6 for slot in range(COUNT)] for unit in range(units)])
            top_values = -np.sort(-rng.normal(size=(units, COUNT)) - 2, axis=1)
            bottom_values = np.sort(rng.normal(size=(units, COUNT)) + 2, axis=1) - 5
            size = (6, 4) if whole else (3, 2)  # whole inputs shrunk (not square: rows and columns tell apart); field crops
            shown = [[crop(1000 * (number + 1) + 10 * unit + slot, *size) for slot in range(2 * COUNT)] for unit in range(units)]
            # (top, left, bottom, right): never square, so a height for a width shows
            boxes = [[(slot, 1, slot + 2, 4) if whole else (2 * slot, slot + 1, 2 * slot + 3, slot + 3) for slot in range(2 * COUNT)]
                     for _ in range(units)]
            ranked[layer] = Examples(layer, list(range(units)), top, top_values, np.zeros((units, COUNT, 2), int), bottom,
                                     bottom_values, np.zeros((units, COUNT, 2), int), None if whole else (3, 2), whole=whole,
                                     top_pictures=[row[:COUNT] for row in shown], bottom_pictures=[row[COUNT:] for row in shown],
                                     boxes=boxes)
            edges = np.linspace(bottom_values[:, :1], top_values[:, :1], 6, axis=1)[..., 0]  # (units, 5 bins + 1)
            counts[layer] = (rng.integers(0, 9, (units, 5)), edges)
            optimised[layer] = edges[:, 0] + (edges[:, -1] - edges[:, 0]) * np.linspace(0.1, 0.9, units)
            optimised[layer][-1] += 100.0  # the last unit's picture: off the scale
    norms = np.abs(rng.normal(size=(3, 4)))
    norms[1, 1:] = norms[2, 2] = 0.0  # no connection: never listed, though among the 2 strongest of conv_a #1's and unit 2's
    links = {HOSTILE: ("conv_a", norms, np.where(rng.random((3, 4)) < 0.5, -1.0, 1.0))}
    contributions = {"conv_a": rng.normal(size=(3, 3)), HOSTILE: rng.normal(size=(4, 3))} if examples else {}
    class_page = None
    if classes and examples:
        drawn = Pictures(np.stack([crop(2000 + c, 12) for c in range(3)]), [0, 1, 2], np.array([0.5, 0.6, 0.7]), "classes",
                         list(NAMES))
        order = np.array([[5, 0], [1, 2], [3, 4]])
        class_page = (drawn, (order, rng.random((3, 2))))
    made = Made(out, plan, pictures, ranked, counts, optimised, links, contributions, class_page)
    if write:
        write_site(made)
    return made


def write_site(made: Made, out: str | None = None) -> None:
    """site.write of the arrays, into `out` when given (else the plan's folder)."""
    plan = made.plan if out is None else dataclasses.replace(made.plan, out=out)
    site.write(plan, made.pictures, made.ranked, made.counts, made.optimised, made.links, made.contributions, made.class_page)


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> Made:
    return hand_made(str(tmp_path_factory.mktemp("site") / "full"))


@pytest.fixture(scope="module")
def bare(tmp_path_factory) -> Made:
    """No dataset examples, so no histograms, contributions or classes page; no connections listed (--connections 0)."""
    return hand_made(str(tmp_path_factory.mktemp("site") / "bare"), examples=False, connections=0)


def written(out: str) -> set[str]:
    return {os.path.relpath(os.path.join(folder, name), out) for folder, _, files in os.walk(out) for name in files}


def pages(out: str) -> list[str]:
    return sorted(name for name in written(out) if name.endswith(".html"))


def unit_page(made: Made, layer: str, unit: int) -> str:
    return f"{made.key(layer)}/{unit}.html"


# --- the pages and their links --------------------------------------------------------------------------------------

def test_every_page_promised_is_written(full, bare):
    for made, classes in ((full, True), (bare, False)):
        expected = {"index.html", *(f"{made.key(layer)}.html" for layer in LAYERS),
                    *(unit_page(made, layer, unit) for layer, units in UNITS.items() for unit in range(units))}
        assert set(pages(made.out)) == expected | ({"classes.html"} if classes else set())
        assert {"style.css", "nav.js"} <= written(made.out)
        assert read(made.out, "style.css") == site.STYLE and read(made.out, "nav.js") == site.KEYS
    assert not any(name.startswith("inputs") for name in written(bare.out))


def references(made: Made) -> dict[str, set[str]]:
    """Every page's href and src, as written."""
    found = {}
    for name in pages(made.out):
        page = parsed(made.out, name)
        found[name] = {attrs[key] for _, attrs in page.tags for key in ("href", "src") if key in attrs}
    return found


@pytest.mark.parametrize("which", ["full", "bare"])
def test_every_href_and_src_is_a_file_written_inside_the_site(which, request):
    made = request.getfixturevalue(which)
    files, root = written(made.out), os.path.realpath(made.out)
    used = set()
    for name, targets in references(made).items():
        assert targets, name
        for target in targets:
            if target == "data:,":  # the empty icon: nothing fetched
                continue
            assert "://" not in target and not target.startswith("/"), (name, target)
            path = os.path.realpath(os.path.join(made.out, os.path.dirname(name), target))
            assert path.startswith(root + os.sep), (name, target)
            assert os.path.relpath(path, root) in files, (name, target)
            used.add(os.path.relpath(path, root))
    # And every picture written is shown somewhere: none is left over by a wrong name.
    assert {name for name in files if name.endswith(".png")} <= used
    assert {name for name in used if name.endswith(".html")} == set(pages(made.out))  # each page is linked to from another


def test_file_names_come_from_indices_and_slugs_never_the_names(full):
    assert full.key(HOSTILE) == "1-c-img-src-x-onerror-window-hacked-1"
    for name in written(full.out):
        assert not set(name) & set('<>"&\' '), name


def test_arrows_lead_to_the_previous_and_next_unit_and_up_to_the_layer(full):
    key = full.key(HOSTILE)
    first, middle, last = (parsed(full.out, unit_page(full, HOSTILE, unit)) for unit in (0, 1, 3))
    assert first.by_id("prev") is None and first.by_id("next")["href"] == "1.html"
    assert middle.by_id("prev")["href"] == "0.html" and middle.by_id("next")["href"] == "2.html"
    assert last.by_id("next") is None and last.by_id("up")["href"] == f"../{key}.html"
    conv_a, hostile = parsed(full.out, f"{full.key('conv_a')}.html"), parsed(full.out, f"{key}.html")
    assert conv_a.by_id("prev") is None and conv_a.by_id("next")["href"] == f"{key}.html"
    assert hostile.by_id("prev")["href"] == f"{full.key('conv_a')}.html" and hostile.by_id("next") is None
    assert hostile.by_id("up")["href"] == "index.html" and parsed(full.out, "classes.html").by_id("up")["href"] == "index.html"
    for name in pages(full.out):  # each page's style sheet and arrow keys, from its own folder
        page = parsed(full.out, name)
        root = "../" if "/" in name else ""
        assert [attrs["href"] for attrs in page.all("link") if attrs.get("rel") == "stylesheet"] == [f"{root}style.css"]
        assert [attrs.get("src") for attrs in page.all("script")] == [f"{root}nav.js"]


# --- the numbers shown are the arrays given -------------------------------------------------------------------------

def test_the_index_lists_each_layer_with_its_type_shape_units_and_field(full, bare):
    # conv_a's field as its examples found it; the hostile layer's examples could not tell theirs, and without examples
    # it is worked out from the layers: 3x2, through a 2x2 pooling (4x3), under a 3x3 convolution on every other pixel.
    for made, fields in ((full, ("3x2", "not known")), (bare, ("3x2", "8x7"))):
        page = parsed(made.out, "index.html")
        rows = read(made.out, "index.html").split("<tr>")[2:]
        assert len(rows) == 2
        for layer, shape, field, row in zip(LAYERS, ("10x11x3", "3x3x4"), fields, rows):
            cells = [Page(cell).text for cell in row.split("<td>")[1:]]
            assert cells[:5] == [layer, "Conv2D", shape, str(UNITS[layer]), field]
            strip = Page(row).all("img")
            assert [attrs["src"] for attrs in strip] == [f"{made.key(layer)}/{unit}.png" for unit in range(UNITS[layer])]
        params = made.plan.view.model.count_params()
        assert f"Input 12x12 x 1, {params:,} parameters, head: softmax, 3 classes." in page.text
        assert page.inside("title") == page.inside("h1") == [f"Atlas of {made.plan.view.label}"]
    assert f"Dataset examples: {COUNT} most and least exciting of six <b>\"inputs\"</b>." in parsed(full.out, "index.html").text
    assert "Dataset examples: none." in parsed(bare.out, "index.html").text
    assert "classes.html" in references(full)["index.html"] and "classes.html" not in references(bare)["index.html"]


def test_each_layer_page_shows_each_units_activation(full):
    for layer, units in UNITS.items():
        page = parsed(full.out, f"{full.key(layer)}.html")
        tiles = [attrs for attrs in page.all("a") if attrs.get("class") == "tile"]
        assert [attrs["href"] for attrs in tiles] == [f"{full.key(layer)}/{unit}.html" for unit in range(units)]
        shown = re.findall(r"#(\d+) (-?\d+\.\d\d)", page.text)
        assert [(int(unit), float(value)) for unit, value in shown] == [
            (unit, round(float(value), 2)) for unit, value in enumerate(full.pictures[layer].activation)]


def test_each_unit_page_shows_its_two_pictures_and_their_scores(full):
    for layer, units in UNITS.items():
        for unit in range(units):
            page = parsed(full.out, unit_page(full, layer, unit))
            assert page.inside("title") == page.inside("h1") == [f"{layer} #{unit}"]
            big = [attrs["src"] for attrs in page.all("img")][:2]
            assert big == [f"{unit}.png", f"{unit}-negative.png"]
            assert f"maximises the mean: {full.pictures[layer].activation[unit]:.3f}" in page.text
            assert f"minimises it: {full.pictures[layer].negative_activation[unit]:.3f}" in page.text


def figures_of(page: Page) -> list[dict]:
    """Each example's crop, caption and whole input, in order."""
    images = page.all("img")[2:]  # after the unit's two pictures
    return [{"crop": images[k]["src"], "alt": images[k]["alt"], "whole": images[k + 1]["src"], "whole_alt": images[k + 1]["alt"]}
            for k in range(0, 4 * COUNT, 2)]


def test_examples_show_each_input_by_name_with_its_activation_and_its_field_boxed(full):
    for layer, units in UNITS.items():
        found = full.ranked[layer]
        for unit in range(units):
            page = parsed(full.out, unit_page(full, layer, unit))
            shown = figures_of(page)
            indices = [*found.top[unit], *found.bottom[unit]]
            assert [item["crop"] for item in shown] == [f"{unit}-top{k}.png" for k in range(COUNT)] + \
                [f"{unit}-bottom{k}.png" for k in range(COUNT)]
            assert [item["whole"] for item in shown] == [f"../inputs/{index}.png" for index in indices]
            assert [item["alt"] for item in shown] == [INPUTS[index] for index in indices]
            assert [item["whole_alt"] for item in shown] == [f"{INPUTS[index]}, whole" for index in indices]
            values = [*found.top_activations[unit], *found.bottom_activations[unit]]
            captions = re.findall(r"onerror=\"x\">(-?\d+\.\d\d)", page.text)
            assert captions == [f"{value:.2f}" for value in values]
            # The box, in percent of the picture it is drawn on: the input (crops) or the whole picture shown (shrunk).
            rows, cols = (6, 4) if found.whole else (12, 12)
            boxes = [attrs["style"] for attrs in page.all("span") if attrs.get("class") == "box"]
            expected = [f"top:{100 * t / rows:.2f}%;left:{100 * lft / cols:.2f}%;height:{100 * (b - t) / rows:.2f}%;"
                        f"width:{100 * (r - lft) / cols:.2f}%" for t, lft, b, r in found.boxes[unit]]
            assert boxes == expected


def png(out: str, relative: str) -> np.ndarray:
    return np.asarray(Image.open(os.path.join(out, relative)))


def assert_grey(got: np.ndarray, expected: np.ndarray, what: str) -> None:
    """An 8-bit grey PNG holds the picture 0..1 given, to one grey level."""
    assert got.shape == expected.shape[:2], what
    np.testing.assert_allclose(got, expected[..., 0] * 255, atol=1, err_msg=what)


def test_the_pictures_written_are_the_arrays_given(full):
    for layer, units in UNITS.items():
        found = full.ranked[layer]
        for unit in range(units):
            for which, shown in (("top", found.top_pictures[unit]), ("bottom", found.bottom_pictures[unit])):
                for slot, expected in enumerate(shown):
                    got = png(full.out, f"{full.key(layer)}/{unit}-{which}{slot}.png")
                    assert_grey(got, expected, f"{layer} {unit} {which}{slot}")
    for index in range(6):
        assert_grey(png(full.out, f"inputs/{index}.png"), picture(index), f"input {index}")
    for cls in range(3):
        assert_grey(png(full.out, f"classes/{cls}.png"), full.class_page[0].images[cls], f"class {cls}")


class Bars(HTMLParser):
    """An inline SVG's bars, line and texts."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.rects, self.lines, self.texts, self.svgs = [], [], [], 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg":
            self.svgs += 1
        elif tag == "rect":
            self.rects.append({key: float(attrs[key]) for key in ("x", "y", "width", "height")})
        elif tag == "line":
            self.lines.append({key: float(attrs[key]) for key in ("x1", "x2", "y1", "y2")})

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.texts.append(data)


def expected_bars(counts) -> list[dict]:
    top = max(int(max(counts)), 1)
    return [{"x": 300 * i / len(counts), "y": 90 - 80 * c / top, "width": 300 / len(counts) - 1, "height": 80 * c / top}
            for i, c in enumerate(counts)]


def assert_bars(svg: Bars, counts, edges, marked):
    assert svg.svgs == 1 and len(svg.rects) == len(counts)
    for rect, expected in zip(svg.rects, expected_bars(counts)):
        assert rect == pytest.approx(expected, abs=0.051)  # written to 0.1
    low, high = float(edges[0]), float(edges[-1])
    x = min(max((marked - low) / (high - low), 0), 1) * 300
    assert len(svg.lines) == 1 and svg.lines[0]["x1"] == pytest.approx(x, abs=0.051) == svg.lines[0]["x2"]
    beyond = "" if low <= marked <= high else " (off the scale)"
    assert svg.texts == [f"picture {marked:.2f}{beyond}", f"{low:.2f}", f"{high:.2f}"]


@pytest.mark.parametrize("counts, marked", [([0, 3, 6, 1], 1.5), ([2, 2, 2, 2], -7.0), ([0, 0, 0, 0], 4.0), ([5], 9.0)])
def test_histogram_svg_draws_a_bar_a_count_and_marks_the_picture(counts, marked):
    edges = np.linspace(0.0, 4.0, len(counts) + 1)
    assert_bars(Bars(site.histogram_svg(np.array(counts), edges, marked)), counts, edges, marked)


class Label(HTMLParser):
    """The red label of an inline SVG histogram: its attributes and its text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.attrs, self.text, self.inside = None, "", False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.inside = tag == "text" and attrs.get("fill") == "#e00"
        if self.inside:
            self.attrs = attrs

    def handle_data(self, data):
        if self.inside:
            self.text += data
            self.inside = False


@pytest.mark.parametrize("marked, line", [(0.0, 0.0), (0.05, 3.75), (1.9, 142.5), (2.0, 150.0), (2.1, 157.5), (3.9, 292.5),
                                          (4.0, 300.0), (5.91, 300.0), (98765.4321, 300.0), (-0.2, 0.0), (-98765.4321, 0.0)])
def test_histogram_svg_label_stays_inside_the_frame(marked, line):
    """The label from where it is anchored, 6 pixels a character (at font-size 10), inside 0..300 on either side of the
    line, off the scale too; beside the line (3 pixels off it), never across it, where it fits there."""
    label = Label(site.histogram_svg(np.array([1, 2, 3, 4]), np.linspace(0.0, 4.0, 5), marked))
    beyond = "" if 0.0 <= marked <= 4.0 else " (off the scale)"
    assert label.text == f"picture {marked:.2f}{beyond}"
    x, wide = float(label.attrs["x"]), 6 * len(label.text)
    anchor = label.attrs.get("text-anchor", "start")
    left, right = {"start": (x, x + wide), "end": (x - wide, x), "middle": (x - wide / 2, x + wide / 2)}[anchor]
    assert 0 <= left and right <= 300, (anchor, left, right)
    assert right <= line - 3 + 0.051 or left >= line + 3 - 0.051, (anchor, left, right, line)


def test_histogram_svg_without_a_picture_has_no_line():
    svg = Bars(site.histogram_svg(np.array([1, 4]), np.array([-1.0, 0.0, 1.0]), None))
    assert not svg.lines and svg.texts == ["-1.00", "1.00"] and len(svg.rects) == 2


def test_each_unit_page_histogram_is_its_counts_and_its_pictures_response(full):
    for layer, units in UNITS.items():
        counts, edges = full.counts[layer]
        for unit in range(units):
            text = read(full.out, unit_page(full, layer, unit))
            svg = text[text.index("<svg"):text.index("</svg>") + 6]
            assert_bars(Bars(svg), counts[unit], edges[unit], float(full.optimised[layer][unit]))
            assert "Strongest response over all 6 inputs" in Page(text).text
    last = read(full.out, unit_page(full, HOSTILE, UNITS[HOSTILE] - 1))
    assert "(off the scale)" in last


def connection_items(made: Made, layer: str, unit: int, heading: str) -> list[tuple[str, str]]:
    """(href, text) of each link in the list under `heading` on a unit's page."""
    text = read(made.out, unit_page(made, layer, unit))
    start = text.find(f"<h3>{html.escape(heading)}")
    if start < 0:
        return []
    block = text[start:text.index("</ol>", start)]
    return [(href, Page(inner).text) for href, inner in re.findall(r'<li><a href="([^"]*)">(.*?)</li>', block)]


def test_incoming_and_outgoing_connections_are_the_strongest_weights_given(full):
    below, norms, signs = full.links[HOSTILE]
    up = full.key(HOSTILE)
    for unit in range(4):
        order = [c for c in np.argsort(-norms[:, unit], kind="stable")[:2] if norms[c, unit] > 0]
        got = connection_items(full, HOSTILE, unit, "Incoming, from conv_a")
        assert got == [(f"../{full.key('conv_a')}/{c}.html",
                        f"conv_a #{c} ||W|| {norms[c, unit]:.3f} ({'+' if signs[c, unit] >= 0 else '−'})") for c in order]
    for unit in range(3):
        order = [u for u in np.argsort(-norms[unit], kind="stable")[:2] if norms[unit, u] > 0]
        got = connection_items(full, "conv_a", unit, f"Outgoing, to {HOSTILE}")
        assert got == [(f"../{up}/{u}.html", f"{HOSTILE} #{u} ||W|| {norms[unit, u]:.3f} "
                        f"({'+' if signs[unit, u] >= 0 else '−'})") for u in order]
        assert not connection_items(full, "conv_a", unit, "Incoming")  # conv_a reads the pixels
    assert all(not connection_items(full, HOSTILE, unit, "Outgoing") for unit in range(4))


def test_a_zero_weight_is_not_a_connection(full):
    _, norms, _ = full.links[HOSTILE]
    assert norms[2, 2] == 0 and (norms[1, 1:] == 0).all()
    assert [text.split(" ||")[0] for _, text in connection_items(full, HOSTILE, 2, "Incoming")] == ["conv_a #0"]
    assert [text.split(" ||")[0] for _, text in connection_items(full, "conv_a", 1, "Outgoing")] == [f"{HOSTILE} #0"]


def test_the_classes_a_unit_pushes_up_and_down_most_are_its_contributions(full, bare):
    for layer, units in UNITS.items():
        for unit in range(units):
            text = read(full.out, unit_page(full, layer, unit))
            row = full.contributions[layer][unit]
            order = np.argsort(-row, kind="stable")
            up, down = [c for c in order if row[c] > 0][:3], [c for c in order[::-1] if row[c] < 0][:3]
            for way, chosen in (("up", up), ("down", down)):
                assert pushed(text, way) == ([f"{NAMES[c]}: {row[c]:+.3f}" for c in chosen] or "none")
            assert "the mean over the first 5 of the 6 inputs of the sum" in Page(text).text
    assert "No connections to show for this layer." in Page(read(bare.out, unit_page(bare, "conv_a", 0))).text


def test_the_classes_page_shows_each_class_picture_and_the_inputs_most_sure_of_it(full):
    drawn, (order, sure) = full.class_page
    text = read(full.out, "classes.html")
    page = Page(text)
    sections = text.split("<h2>")[1:]
    assert [Page(section.split("</h2>")[0]).text for section in sections] == NAMES
    for cls, section in enumerate(sections):
        images = [attrs["src"] for attrs in Page(section).all("img")]
        assert images == [f"classes/{cls}.png", *(f"inputs/{index}.png" for index in order[cls])]
        values = re.findall(r"<figcaption>(\d\.\d\d\d)</figcaption>", section)
        assert values == [f"{value:.3f}" for value in sure[cls]]
    assert "the inputs it gives the highest probability, of the first 5 of the 6 inputs." in page.text


def pushed(text: str, way: str) -> list[str] | str:
    """The items under "Pushes {way} most:" on a unit's page, or "none" where it says it has none."""
    if f"Pushes {way} most: none (no class's contribution is {'above' if way == 'up' else 'below'} 0)." in Page(text).text:
        assert f"<p>Pushes {way} most:</p>" not in text
        return "none"
    start = text.index(f"<p>Pushes {way} most:</p><ol>")
    return [Page(item).text for item in re.findall(r"<li>(.*?)</li>", text[start:text.index("</ol>", start)])]


def rewritten(out: str, contributions: dict | None = None, **plan) -> Made:
    """The full site again into `out`, but for the contributions or the plan's fields given."""
    made = hand_made(out, write=False)
    made = dataclasses.replace(made, plan=dataclasses.replace(made.plan, **plan), contributions=contributions or made.contributions)
    write_site(made)
    return made


def test_a_class_is_pushed_up_only_above_0_and_down_only_below_0(tmp_path):
    """Contributions chosen by hand, as two classes give them (one class at +0.085 is pushed up, never down), with a
    class at 0 in neither list and lists that are empty."""
    contributions = {"conv_a": np.array([[0.085, 0.0, -0.5], [0.3, 0.1, 0.2], [-0.1, -0.3, -0.2]]),
                     HOSTILE: np.array([[0.085, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, -1.0, 2.0], [-2.0, 3.0, -1.0]])}
    expected = {("conv_a", 0): ([f"{NAMES[0]}: +0.085"], [f"{NAMES[2]}: -0.500"]),
                ("conv_a", 1): ([f"{NAMES[0]}: +0.300", f"{NAMES[2]}: +0.200", f"{NAMES[1]}: +0.100"], "none"),
                ("conv_a", 2): ("none", [f"{NAMES[1]}: -0.300", f"{NAMES[2]}: -0.200", f"{NAMES[0]}: -0.100"]),
                (HOSTILE, 0): ([f"{NAMES[0]}: +0.085"], "none"),
                (HOSTILE, 1): ("none", "none"),
                (HOSTILE, 2): ([f"{NAMES[2]}: +2.000", f"{NAMES[0]}: +1.000"], [f"{NAMES[1]}: -1.000"]),
                (HOSTILE, 3): ([f"{NAMES[1]}: +3.000"], [f"{NAMES[0]}: -2.000", f"{NAMES[2]}: -1.000"])}
    made = rewritten(str(tmp_path), contributions=contributions)
    for (layer, unit), (up, down) in expected.items():
        text = read(made.out, unit_page(made, layer, unit))
        assert (pushed(text, "up"), pushed(text, "down")) == (up, down), (layer, unit)


@pytest.mark.parametrize("count, class_inputs, said", [(32, 1000, "all 32 inputs"), (10_000, 1000, "the first 1,000 of the 10,000 inputs"),
                                                       (6, 6, "all 6 inputs"), (6, 0, "all 6 inputs"), (7, 1, "the first of the 7 inputs"),
                                                       (1, 1000, "the one input")])
def test_the_classes_are_said_to_be_worked_out_over_the_inputs_there_were(tmp_path, count, class_inputs, said):
    """The first min(class_inputs, inputs) inputs (0: all of them), as the contributions and the classes page take them."""
    source = dataset_examples.Source(count, lambda index: picture(index % 6), None, "some inputs")
    made = rewritten(str(tmp_path), source=source, class_inputs=class_inputs)
    for layer in LAYERS:
        assert f"Contribution: the mean over {said} of the sum over positions" in Page(read(made.out, unit_page(made, layer, 0))).text
    assert f"the inputs it gives the highest probability, of {said}." in parsed(made.out, "classes.html").text
    assert f"Strongest response over all {count:,} inputs" in Page(read(made.out, unit_page(made, "conv_a", 0))).text


@pytest.mark.parametrize("name", ["crops", "faces.npz", 'crops<img src=q onerror="y"> & co'])
@pytest.mark.parametrize("trailing", ["", os.sep])
def test_the_index_names_the_examples_folder_not_its_path(tmp_path, name, trailing):
    place = tmp_path / "on" / "this machine"
    place.mkdir(parents=True)
    if name.endswith(".npz"):
        (place / name).write_bytes(b"")
    else:
        (place / name).mkdir()
    path = str(place / name) + ("" if name.endswith(".npz") else trailing)
    source = dataset_examples.Source(6, picture, INPUTS, path)  # what from_path gives: the path as given
    made = rewritten(str(tmp_path / "site"), source=source)
    text = read(made.out, "index.html")
    assert f"Dataset examples: {COUNT} most and least exciting of the 6 inputs in {name}." in Page(text).text
    assert str(place) not in Page(text).text and html.escape(str(place)) not in text
    assert "<img src=q" not in text and all(attrs.get("src") != "q" for attrs in Page(text).all("img"))


# --- hostile text ---------------------------------------------------------------------------------------------------

def test_hostile_names_are_shown_as_text_and_never_become_tags(full):
    shown = ""
    for name in pages(full.out):
        text = read(full.out, name)
        page = Page(text)
        for tag, attrs in page.tags:
            assert tag in {"html", "head", "meta", "link", "title", "body", "script", "nav", "a", "h1", "h2", "h3", "p", "div",
                           "figure", "figcaption", "img", "span", "br", "ol", "li", "table", "tr", "th", "td", "svg", "rect",
                           "line", "text"}, (name, tag)
            assert not any(key.startswith("on") for key in attrs), (name, tag, attrs)
            if tag == "img":
                assert not attrs["src"].startswith(("x", "y", "z")), (name, attrs)
            if tag == "script":
                assert attrs.get("src", "").endswith("nav.js")
        for raw in ("<img src=x", "<img src=y", "<img src=z", "<script>alert", "<b>"):
            assert raw not in text, (name, raw)
        shown += page.text + "".join(attrs.get("alt", "") for _, attrs in page.tags)
    for name in (HOSTILE, *NAMES, *INPUTS, 'six <b>"inputs"</b>'):
        assert name in shown, name  # each one whole, as text a reader sees


def test_titles_and_headings_are_escaped_too(full):
    text = read(full.out, unit_page(full, HOSTILE, 0))
    assert f"<title>{html.escape(HOSTILE)} #0</title>" in text and f"<h1>{html.escape(HOSTILE)} #0</h1>" in text
    assert Page(text).inside("title") == [f"{HOSTILE} #0"]


def test_e_escapes_what_an_attribute_or_a_tag_needs():
    assert site.e('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    assert site.e(3.5) == "3.5"
    assert site.link("0-a/1.html", "<b>", "next") == '<a href="0-a/1.html" id="next">&lt;b&gt;</a>'


# --- refusals -------------------------------------------------------------------------------------------------------

def test_an_atlas_into_a_folder_that_cannot_be_made_is_one_line_before_any_work(tmp_path):
    import cnn_note as cn

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(InputError) as refused:
        cn.atlas(tiny_model(), str(blocker / "atlas"), examples=0, progress=False)
    assert "\n" not in str(refused.value) and f"cannot write to {blocker / 'atlas'}" in str(refused.value)
    assert refused.value.on_command_line().endswith("choose another --out or fix its permissions")  # atlas.py's flag
    with pytest.raises(InputError, match="is a file, not a folder"):
        make_plan(tiny_model(), str(blocker), None, examples=0)
    assert sorted(os.listdir(tmp_path)) == ["a-file"]


@pytest.mark.parametrize("how, words", [({"layers": ["conv_a", "conv_a"]}, "names a layer twice"),
                                        ({"layers": ["nope"]}, "unknown layer nope"),
                                        ({"class_names": ["one", "two"]}, "gives 2 names but"),
                                        ({"connections": -1}, "it must be a whole number of at least 0"),
                                        ({"examples": 5}, "is more than the 4 inputs")])
def test_a_plan_the_pages_cannot_be_made_from_is_one_line_and_writes_nothing(tmp_path, how, words):
    how = {"layers": None, "examples": 0, "examples_from": np.zeros((4, 12, 12), "uint8"), **how}
    with pytest.raises(InputError) as refused:
        make_plan(tiny_model(), str(tmp_path / "atlas"), how.pop("layers"), log=lambda line: None, **how)
    assert "\n" not in str(refused.value) and words in str(refused.value)
    assert not (tmp_path / "atlas").exists()


@pytest.mark.xfail(strict=True, raises=OSError,
                   reason="site.write does not check its folder: make() does first (writing.ensure_writable), and says it in one line")
def test_pages_into_a_folder_that_cannot_be_written_are_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    made = hand_made(str(tmp_path / "arrays"), examples=False, write=False)
    with pytest.raises(InputError):
        write_site(made, str(blocker / "site"))
