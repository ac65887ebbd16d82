"""live.html: the page, its scripts (the models, the inputs, TensorFlow.js vendored with its licence) and its style.

Everything the page loads is a file in the atlas's folder, loaded by <script src> and <link>, never
fetch() (which Chromium refuses for file://): the page works opened from disk as from any static
server, and no request leaves the folder. The WebAssembly backend's binary goes in wasm.js as a
data: URL, which its loader takes in place of a file to fetch.
"""

from __future__ import annotations

import base64
import json
import os
from html import escape as e

import numpy as np

from cnn_note.io import writing
from cnn_note.live.export import Exported
from cnn_note.settings import MAX_SHIFT, SUBSAMPLINGS

# The note's changes to the input, as why_cnn.py makes them (settings states them once), for live.js's controls.
CHANGES = "window.cnnNoteChanges = " + json.dumps({"max_shift": MAX_SHIFT, "subsamplings": SUBSAMPLINGS}, separators=(",", ":")) + ";"

ASSETS = os.path.join(os.path.dirname(__file__), "assets")
# @tensorflow/tfjs-core, -backend-cpu and -backend-wasm 4.22.0 from npm, in the order the page loads them; their licence.
SCRIPTS = ("tf-core.min.js", "tf-backend-cpu.min.js", "tf-backend-wasm.min.js")
WASM = "tfjs-backend-wasm-simd.wasm"  # the SIMD build: every browser of the last years runs it, without threads
FOLDER = "live"  # beside live.html: its scripts and style


def inputs_script(pictures: np.ndarray, labels: list | None, indices: list[int], names: list[str] | None) -> str:
    """The shipped inputs (N, H, W, C) of pixels 0..1 as a script: bytes 0..255, with their labels and indices."""
    data = {"pixels": base64.b64encode(np.round(pictures * 255).astype("uint8").tobytes()).decode("ascii"),
            "labels": labels, "indices": indices, "names": names}
    return "window.cnnNoteInputs = " + json.dumps(data, separators=(",", ":")) + ";\n"


def html(title: str, back: str | None, models: list[Exported], has_inputs: bool) -> str:
    """The page itself: the drawing, the controls, the shipped inputs and a panel per model (live.js fills them)."""
    scripts = "".join(f'<script src="{FOLDER}/{name}"></script>' for name in
                      [*SCRIPTS, "wasm.js", *(f"model-{i}.js" for i in range(len(models))),
                       *(["inputs.js"] if has_inputs else []), "live.js"])
    names = " and ".join(e(model.spec["name"]) for model in models)
    # A grey model takes strokes; a colour one, pictures (live.js leaves its canvas for showing them).
    start = "Draw a digit (or pick a test input)" if models[0].spec["input"][2] == 1 else "Open a picture (or pick an input)"
    back_link = f'<a href="{e(back)}">the atlas</a>' if back else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
            f'<title>{e(title)}</title><link rel="stylesheet" href="{FOLDER}/live.css"></head>\n<body>\n'
            f"<nav>{back_link}</nav><h1>{e(title)}</h1>"
            f"<p>{start}: {names} answer, every layer's maps computed here in the page. Shift the input or drop rows "
            "and the answers are to the changed input"
            # The count is there only when the shipped inputs have labels: live.js shows this part when it counts.
            '<span class="about-count">; the line above them counts how many of the test inputs each network gets right under '
            "the same change: the note's second and third reasons for CNNs, which a single digit may not show</span>. "
            "Hover a map for its unit's picture in the atlas; click it for its page.</p>"
            '<main><section id="input"><canvas id="draw" aria-label="draw here"></canvas>'
            '<div class="controls"><button id="clear" type="button">clear</button>'
            '<label>open a picture <input id="open" type="file" accept="image/*"></label></div>'
            '<div class="controls">what the networks see <canvas id="seen"></canvas> <span id="change"></span></div>'
            '<div class="controls">shift <button type="button" data-shift="-1,0" aria-label="up">&uarr;</button>'
            '<button type="button" data-shift="1,0" aria-label="down">&darr;</button>'
            '<button type="button" data-shift="0,-1" aria-label="left">&larr;</button>'
            '<button type="button" data-shift="0,1" aria-label="right">&rarr;</button>'
            '<button type="button" data-shift="0,0">none</button></div>'
            '<div class="controls"><select id="subsampling" aria-label="rows dropped"></select></div>'
            '<p id="message" role="alert"></p><div id="examples"></div></section>'
            # The count over the shipped inputs above both answers, each answer above its layers: all in a 1280x800 view.
            '<section id="results"><p id="tally"></p><div id="answers"></div></section></main>'
            f'<footer><p>Computed in this page with TensorFlow.js 4.22.0 (<a href="{FOLDER}/LICENSE">its licence</a>), '
            'in float32, on its <span id="backend">WebAssembly or CPU</span> backend.</p></footer>\n'
            f"<script>{CHANGES}</script>{scripts}\n</body></html>\n")


def write(out: str, title: str, models: list[Exported], inputs: str | None, back: str | None = "index.html") -> str:
    """Write live.html and its folder into `out`; returns the page's path. Each file is written whole (atomic writes)."""
    folder = os.path.join(out, FOLDER)
    os.makedirs(folder, exist_ok=True)
    for name in (*(os.path.join("vendor", name) for name in (*SCRIPTS, "LICENSE")), "live.js", "live.css"):
        with open(os.path.join(ASSETS, name), encoding="utf-8") as handle:
            writing.write_text(os.path.join(folder, os.path.basename(name)), handle.read())
    with open(os.path.join(ASSETS, "vendor", WASM), "rb") as handle:
        binary = base64.b64encode(handle.read()).decode("ascii")
    writing.write_text(os.path.join(folder, "wasm.js"), f'window.cnnNoteWasm = "data:application/wasm;base64,{binary}";\n')
    for index, model in enumerate(models):
        writing.write_text(os.path.join(folder, f"model-{index}.js"), model.script())
    if inputs is not None:
        writing.write_text(os.path.join(folder, "inputs.js"), inputs)
    path = os.path.join(out, "live.html")
    writing.write_text(path, html(title, back, models, inputs is not None))
    return path
