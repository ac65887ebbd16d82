"""The atlas as a static web site: the pictures as PNGs, the pages (pages.py's HTML) beside them, one style sheet.

Nothing is fetched: every page is whole in its file and pictures are PNGs beside it, so the site
works from file:// as from any static server. Every name that comes from the user (layers, classes,
inputs) is escaped, and every file is named from a layer's index and a slug, never its raw name.
"""

from __future__ import annotations

import os

import numpy as np

from cnn_note import dataset_examples
from cnn_note.errors import InputError
from cnn_note.io import writing
from cnn_note.network_atlas.pages import KEYS, STRIP, STYLE, Example, e, examples_html, histogram_svg, link, nav, page


class Site:
    """Writes the pages of one atlas (see write)."""

    def __init__(self, plan, pictures, ranked, counts, optimised, links, contributions, class_page, live: bool = False) -> None:
        self.plan, self.view, self.out = plan, plan.view, plan.out
        self.pictures, self.ranked, self.counts, self.optimised = pictures, ranked, counts, optimised
        self.links, self.contributions, self.class_page = links, contributions, class_page
        self.inputs_written: set[int] = set()
        self.live = live
        self.names = plan.class_names or []

    def save(self, relative: str, text: str) -> None:
        writing.write_text(os.path.join(self.out, relative), text)

    def input_picture(self, index: int) -> tuple[str, tuple[int, int]]:
        """inputs/<index>.png (at most WHOLE_SIDE a side), written once, and the size of the input its boxes are in."""
        picture = self.plan.source.picture(index)
        size = picture.shape[:2]
        relative = f"inputs/{index}.png"
        if index not in self.inputs_written:
            os.makedirs(os.path.join(self.out, "inputs"), exist_ok=True)
            writing.save_image(os.path.join(self.out, relative), dataset_examples.whole_input(picture))
            self.inputs_written.add(index)
        return relative, size

    def field_of(self, layer: str) -> str:
        """The layer's receptive field, as the examples found it or from the graph at the model's (or the pictures') size."""
        if layer in self.ranked:
            field = self.ranked[layer].field
            return f"{field[0]}x{field[1]}" if field else "not known"
        side = self.plan.chosen.size
        field = dataset_examples.receptive_field(self.view, layer, *(self.view.size or (side, side)))
        return f"{field.height}x{field.width}" if field else "not known"

    def write(self) -> None:
        self.save("style.css", STYLE)
        self.save("nav.js", KEYS)
        layers = self.plan.layers
        for number, layer in enumerate(layers):
            self.layer_page(number)
            for unit in range(self.view.filters(layer)):
                self.unit_page(layer, unit)
        if self.class_page is not None:
            self.classes_page()
        self.index_page()

    def index_page(self) -> None:
        view = self.view
        try:
            head = view.head
            head_text = f"{head.kind}, {head.classes} classes"
        except InputError as error:
            head_text = f"not a classifier ({error.on_command_line()})"
        rows = []
        for layer in self.plan.layers:
            key = self.plan.keys[layer]
            shape = "x".join("?" if side is None else str(side) for side in view.recorded.produced[layer].shape[1:])
            strip = "".join(f'<img src="{key}/{unit}.png" alt="unit {unit}">' for unit in range(min(STRIP, view.filters(layer))))
            rows.append(f"<tr><td>{link(key + '.html', layer)}</td><td>{e(type(view.layer(layer)).__name__)}</td>"
                        f"<td>{e(shape)}</td><td>{view.filters(layer)}</td><td>{e(self.field_of(layer))}</td>"
                        f'<td><a class="strip" href="{key}.html">{strip}</a></td></tr>')
        size = "x".join(str(side) for side in view.size) if view.size else "any"
        classes = f"<p>{link('classes.html', 'Classes')}: each class's picture and the inputs the model is most sure of.</p>" \
            if self.class_page is not None else ""
        if self.live:
            classes += f"<p>{link('live.html', 'Live')}: draw an input and watch every layer answer, in the page.</p>"
        examples = (f"{self.plan.examples} most and least exciting of {e(shown_source(self.plan.source))}"
                    if self.plan.source is not None else "none")
        body = (f"<h1>Atlas of {e(view.label)}</h1>"
                f"<p>Input {e(size)} x {view.channels}, {view.model.count_params():,} parameters, head: {e(head_text)}. "
                f"Dataset examples: {examples}.</p>{classes}"
                '<div class="scroll"><table><tr><th>layer</th><th>type</th><th>output</th><th>units</th>'
                "<th>receptive field</th><th>first units</th></tr>" + "".join(rows) + "</table></div>")
        self.save("index.html", page(f"Atlas of {view.label}", body))

    def layer_page(self, number: int) -> None:
        layers, layer = self.plan.layers, self.plan.layers[number]
        key = self.plan.keys[layer]
        links = (link("index.html", "index", "up"),
                 link(self.plan.keys[layers[number - 1]] + ".html", f"previous layer: {layers[number - 1]}", "prev") if number else None,
                 link(self.plan.keys[layers[number + 1]] + ".html", f"next layer: {layers[number + 1]}", "next")
                 if number + 1 < len(layers) else None)
        activations = self.pictures[layer].activation
        tiles = "".join(f'<a class="tile" href="{key}/{unit}.html"><img src="{key}/{unit}.png" alt="unit {unit}">'
                        f"#{unit} {value:.2f}</a>" for unit, value in enumerate(activations))
        body = (f"{nav(*links)}<h1>{e(layer)}</h1><p>Each unit's picture that maximises its mean activation, "
                f"with that activation. Click one for its page.</p><div class=\"grid\">{tiles}</div>")
        self.save(f"{key}.html", page(layer, body))

    def examples(self, layer: str, unit: int, which: str) -> list[Example]:
        """One unit's top or bottom examples, their crops written beside its page and their whole inputs under inputs/."""
        found = self.ranked[layer]
        key = self.plan.keys[layer]
        indices = found.top[unit] if which == "top" else found.bottom[unit]
        values = found.top_activations[unit] if which == "top" else found.bottom_activations[unit]
        shown = found.top_pictures[unit] if which == "top" else found.bottom_pictures[unit]
        offset = 0 if which == "top" else len(found.top[unit])
        items = []
        for slot, (index, value, picture) in enumerate(zip(indices, values, shown)):
            name = f"{unit}-{which}{slot}.png"
            writing.save_image(os.path.join(self.out, key, name), picture)
            whole, size = self.input_picture(int(index))
            if found.whole:
                size = picture.shape[:2]
            top, left, bottom, right = found.boxes[unit][offset + slot]
            box = (100 * top / size[0], 100 * left / size[1], 100 * (bottom - top) / size[0], 100 * (right - left) / size[1])
            label = self.plan.source.names[int(index)] if self.plan.source.names else f"input {int(index)}"
            items.append(Example(name, label, float(value), whole, box))
        return items

    def connections_html(self, layer: str, unit: int) -> str:
        """Incoming and outgoing weights, and the classes the unit pushes up and down most."""
        k, keys, parts = self.plan.connections, self.plan.keys, []
        if layer in self.links and k:
            below, norms, signs = self.links[layer]
            order = [c for c in np.argsort(-norms[:, unit], kind="stable")[:k] if norms[c, unit] > 0]  # a depthwise unit: one
            items = "".join(f"<li>{link(f'../{keys[below]}/{c}.html', f'{below} #{c}')} "
                            f"||W|| {norms[c, unit]:.3f} ({'+' if signs[c, unit] >= 0 else '−'})</li>" for c in order)
            parts.append(f"<h3>Incoming, from {e(below)}</h3><ol>{items}</ol>")
        for above, (below, norms, signs) in self.links.items():
            if below != layer or not k:
                continue
            order = [u for u in np.argsort(-norms[unit], kind="stable")[:k] if norms[unit, u] > 0]
            items = "".join(f"<li>{link(f'../{keys[above]}/{u}.html', f'{above} #{u}')} "
                            f"||W|| {norms[unit, u]:.3f} ({'+' if signs[unit, u] >= 0 else '−'})</li>" for u in order)
            parts.append(f"<h3>Outgoing, to {e(above)}</h3><ol>{items}</ol>")
        if layer in self.contributions:
            parts.append(self.classes_html(self.contributions[layer][unit]))
        return "".join(parts) or "<p>No connections to show for this layer.</p>"

    def class_inputs_used(self) -> str:
        """The inputs the contributions and the classes page were worked out over: the first class_inputs (0: all) of the
        source's, as wiring.class_contributions and responses.most_sure take them."""
        total = len(self.plan.source) if self.plan.source is not None else self.plan.class_inputs
        return inputs_over(min(self.plan.class_inputs or total, total), total)

    def classes_html(self, row: np.ndarray) -> str:
        """The classes one unit pushes up most (those above 0, at most 3) and down most (below 0), by its contributions."""
        order = np.argsort(-row, kind="stable")

        def listed(way: str, classes, sign: str) -> str:
            items = "".join(f"<li>{e(self.names[c] if c < len(self.names) else c)}: {row[c]:+.3f}</li>" for c in classes[:3])
            return f"<p>Pushes {way} most:</p><ol>{items}</ol>" if items else \
                f"<p>Pushes {way} most: none (no class's contribution is {sign} 0).</p>"

        which = ", ".join(self.contributions)
        return (f"<h3>Classes</h3><p>Contribution: the mean over {self.class_inputs_used()} of the sum over positions of "
                f"activation x gradient of the class score (computed for {e(which)}).</p>"
                + listed("up", [c for c in order if row[c] > 0], "above") + listed("down", [c for c in order[::-1] if row[c] < 0], "below"))

    def unit_page(self, layer: str, unit: int) -> None:
        key, count = self.plan.keys[layer], self.view.filters(layer)
        drawn = self.pictures[layer]
        links = (link(f"../{key}.html", f"layer {layer}", "up"), link(f"{unit - 1}.html", f"#{unit - 1}", "prev") if unit else None,
                 link(f"{unit + 1}.html", f"#{unit + 1}", "next") if unit + 1 < count else None)
        body = [f"{nav(*links)}<h1>{e(layer)} #{unit}</h1>",
                '<div class="grid">'
                f'<figure class="tile big"><img src="{unit}.png" alt="maximises unit {unit}">'
                f'<figcaption>maximises the mean: {drawn.activation[unit]:.3f}</figcaption></figure>'
                f'<figure class="tile big"><img src="{unit}-negative.png" alt="minimises unit {unit}">'
                f'<figcaption>minimises it: {drawn.negative_activation[unit]:.3f}</figcaption></figure></div>']
        if layer in self.ranked:
            counts, edges = self.counts[layer]
            body += ["<h2>Inputs that excite it most</h2><p>Each cut to what the unit sees; hover or tap for the whole input "
                     "with the field boxed.</p>", examples_html(self.examples(layer, unit, "top")),
                     "<h2>Inputs that excite it least</h2>", examples_html(self.examples(layer, unit, "bottom")),
                     f"<h2>Strongest response over all {len(self.plan.source):,} inputs</h2>",
                     histogram_svg(counts[unit], edges[unit], float(self.optimised[layer][unit]))]
        body += ["<h2>Connections</h2>", self.connections_html(layer, unit)]
        self.save(os.path.join(key, f"{unit}.html"), page(f"{layer} #{unit}", "".join(body), "../"))

    def classes_page(self) -> None:
        drawn, (order, sure) = self.class_page
        os.makedirs(os.path.join(self.out, "classes"), exist_ok=True)
        rows = []
        for row, (cls, label) in enumerate(zip(drawn.classes, drawn.labels)):
            writing.save_image(os.path.join(self.out, "classes", f"{cls}.png"), drawn.images[row])
            inputs = "".join(f'<figure class="tile"><img src="{self.input_picture(int(index))[0]}" alt="input {int(index)}">'
                             f"<figcaption>{value:.3f}</figcaption></figure>" for index, value in zip(order[cls], sure[cls]))
            rows.append(f'<h2>{e(label)}</h2><div class="grid"><figure class="tile big"><img src="classes/{cls}.png" '
                        f'alt="class {cls}"><figcaption>the picture</figcaption></figure>{inputs}</div>')
        body = (f'<nav>{link("index.html", "index", "up")}</nav><h1>Classes</h1><p>Each class\'s picture (the ascent of its '
                f"score) and the inputs it gives the highest probability, of {self.class_inputs_used()}.</p>" + "".join(rows))
        self.save("classes.html", page("Classes", body))


def inputs_over(used: int, total: int) -> str:
    """`used` of `total` inputs, the first of them, in words: "all 32 inputs", "the first 1,000 of the 10,000 inputs"."""
    if used >= total:
        return "the one input" if total == 1 else f"all {total:,} inputs"
    return f"the first of the {total:,} inputs" if used == 1 else f"the first {used:,} of the {total:,} inputs"


def shown_source(source) -> str:
    """What the index calls the examples' source: a folder's or an .npz's name, not its path on the machine that made the
    site (its description is that path), with how many inputs it holds; any other description as it is."""
    described = source.description
    if not (isinstance(described, str) and described and os.path.exists(described)):
        return str(described)
    return f"the {len(source):,} inputs in {os.path.basename(os.path.normpath(os.path.abspath(described)))}"


def write(plan, pictures, ranked, counts, optimised, links, contributions, class_page, live: bool = False) -> None:
    """Write every page of the atlas into plan.out; `live`: live.html is there, and the index links it."""
    Site(plan, pictures, ranked, counts, optimised, links, contributions, class_page, live).write()
