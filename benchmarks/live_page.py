"""Benchmark: the live page (live.html) in headless Chromium: how fast it answers, what it loads, and that it agrees with Keras.

Two pages are written with cnn_note.live (export.export, page.write) into a temporary folder and
opened from file:// in headless Chromium (/usr/bin/chromium, window 1300x1400), TensorFlow.js on
its WebAssembly backend as the page ships it (and, side by side in the same run, on its CPU
backend, WebAssembly removed from the page, as a browser without it would run it):

- the note's page: the CNN with the DNN beside it, 28x28x1, the layers export shows, built seeded
  with random weights (the cost does not depend on them), with 36 inputs shipped (the first MNIST
  test digits from --data when the file is there, else random ones). --strokes strokes are drawn
  on the canvas #draw with Selenium pointer actions (pointer down, a few moves, pointer up; each
  stroke a digit-like path, jittered), the page's #clear button pressed before each; the page
  itself records the milliseconds from pointerup to every map and bar redrawn (cnnNote.timings).
  Goal: a median under 30 ms.
- MobileNetV2 at 96x96x3, weights=None, 10 classes, no inputs shipped: a colour model takes no
  strokes, so --sets random pictures go through cnnNote.set(pixels), timed inside the page
  (performance.now() before set and when its promise resolves). Goal: a median under 300 ms. The
  CNN page's set() is timed the same way, for comparison with its strokes (the shipped inputs'
  tally is counted once per change, at the page's start for none). Of MobileNetV2's many layers export shows
  the atlas's alone, none here: that page computes the whole model and draws the bars only; a
  second page shows --mobilenet-layers and is timed on a fifth as many pictures.

Also: the bytes the note's page loads (live.html and every file of its live/ folder, then the
TensorFlow.js scripts, the models' scripts and the inputs apart; goal under 8 MB), and, as a
sanity line, the largest difference between the page's probabilities and model(x, training=False)
for one random input, per model, and between every shown layer's values and Keras's (relative to
the layer's largest; a random MobileNetV2's activations vanish, its probabilities are 0.1 each,
so its layers are what is compared). Timings on a shared machine are noisy: the processor is printed.

    python benchmarks/live_page.py
    python benchmarks/live_page.py --strokes 20 --sets 20 --keep /tmp/live-pages
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from cnn_note.cli import arguments  # noqa: E402

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WIDTH, HEIGHT = 1300, 1400
SHIPPED = 36  # inputs on the note's page, as the atlas ships them
# Digit-like strokes in the canvas's half-widths (-1..1 from its centre, y down): pointer down on the first point.
STROKES = {
    "1": [(0.05, -0.7), (0.03, -0.3), (0.0, 0.1), (-0.02, 0.5), (-0.03, 0.7)],
    "7": [(-0.5, -0.6), (0.0, -0.62), (0.5, -0.6), (0.3, -0.2), (0.1, 0.2), (-0.05, 0.7)],
    "0": [(0.0, -0.65), (0.4, -0.45), (0.5, 0.0), (0.4, 0.45), (0.0, 0.65), (-0.4, 0.45), (-0.5, 0.0), (-0.4, -0.45),
          (0.0, -0.65)],
    "2": [(-0.45, -0.4), (-0.1, -0.65), (0.35, -0.5), (0.3, -0.1), (-0.1, 0.3), (-0.45, 0.65), (0.0, 0.62), (0.5, 0.6)],
    "L": [(-0.3, -0.65), (-0.32, -0.1), (-0.33, 0.6), (0.1, 0.6), (0.45, 0.58)],
}


def chromium(profile: str, wasm: bool = True):
    """Headless Chromium (as tests/conftest.py's headless_chromium), its console kept; with wasm=False, WebAssembly is
    removed from every page before its scripts run, so the page computes on TensorFlow.js's CPU backend."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # Without the background-networking flags Chromium tries hosts this closed network refuses.
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_window_size(WIDTH, HEIGHT)
    driver.set_script_timeout(120)
    if not wasm:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": "delete window.WebAssembly;"})
    return driver


def note_inputs(data: str) -> tuple[np.ndarray, list | None, str]:
    """The note's shipped inputs: the first MNIST test digits from `data` when it is there, else random digits."""
    if data and os.path.isfile(data):
        with np.load(data) as arrays:
            pictures = arrays["x_test"][:SHIPPED].astype("float32")[..., None] / 255
            labels = [int(label) for label in arrays["y_test"][:SHIPPED]] if "y_test" in arrays.files else None
        return pictures, labels, f"the first {SHIPPED} MNIST test digits"
    rng = np.random.default_rng(0)
    # Random labels too: the page lays out its shelf of inputs from their labels.
    return rng.random((SHIPPED, 28, 28, 1)).astype("float32"), [int(k) for k in rng.integers(0, 10, SHIPPED)], \
        f"{SHIPPED} random digits (no {data})"


def write_pages(folder: str, data: str, mobile_layers: list[str]) -> dict:
    """The live pages, their models and the seconds their export took; the note's inputs described. MobileNetV2 gets
    two: as export chooses (of its many layers, the atlas's alone: none here) and showing `mobile_layers`."""
    from cnn_note.backend import keras
    from cnn_note.core.inputs import view_of
    from cnn_note.live import export, page
    from cnn_note.note import models

    keras.utils.set_random_seed(0)
    cnn, dnn = models.build_cnn(), models.build_dnn()
    start = time.perf_counter()
    exported = [export.export(view_of(cnn), "cnn", (28, 28)), export.export(view_of(dnn, maps=False), "dnn", (28, 28))]
    pictures, labels, described = note_inputs(data)
    note = page.write(os.path.join(folder, "note"), "the note's CNN and DNN, live", exported,
                      page.inputs_script(pictures, labels, list(range(SHIPPED)), None), back=None)
    note_seconds = time.perf_counter() - start

    mobilenet = keras.applications.MobileNetV2(input_shape=(96, 96, 3), weights=None, classes=10,
                                               classifier_activation="softmax")
    start = time.perf_counter()
    big = export.export(view_of(mobilenet), "mobilenet_v2", (96, 96))
    mobile = page.write(os.path.join(folder, "mobilenet"), "MobileNetV2, live", [big], None, back=None)
    mobile_seconds = time.perf_counter() - start
    shown = export.export(view_of(mobilenet), "mobilenet_v2", (96, 96), mobile_layers)
    mobile_maps = page.write(os.path.join(folder, "mobilenet-maps"), "MobileNetV2, live", [shown], None, back=None)
    maps = sum(op["shape"][-1] for op in shown.spec["operations"] if op["name"] in shown.spec["shown"])
    return {"note": note, "mobile": mobile, "cnn": cnn, "dnn": dnn, "mobilenet": mobilenet, "inputs": described,
            "note_seconds": note_seconds, "mobile_seconds": mobile_seconds, "shown": exported[0].spec["shown"],
            "dnn_shown": exported[1].spec["shown"], "mobile_shown": big.spec["shown"],
            "mobile_params": mobilenet.count_params(), "mobile_maps": mobile_maps, "maps": maps,
            "maps_shown": shown.spec["shown"]}


def page_bytes(path: str) -> dict[str, int]:
    """What the page at `path` loads, in bytes: everything (live.html and its live/ folder) and by kind."""
    folder = os.path.join(os.path.dirname(path), "live")
    sizes = {name: os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder)}
    return {"total": os.path.getsize(path) + sum(sizes.values()),
            "tfjs": sum(size for name, size in sizes.items() if name.startswith("tf-") or name == "wasm.js"),
            "models": sum(size for name, size in sizes.items() if name.startswith("model-")),
            "inputs": sizes.get("inputs.js", 0),
            "rest": os.path.getsize(path) + sum(size for name, size in sizes.items()
                                                if not name.startswith(("tf-", "model-")) and name not in ("inputs.js", "wasm.js"))}


def open_page(driver, path: str) -> float:
    """Open the page and wait for cnnNote.ready; the milliseconds from the request to ready."""
    start = time.perf_counter()
    driver.get("file://" + path)
    failed = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "window.cnnNote.ready.then(function () { done(null); }, function (e) { done(String(e)); });")
    if failed:
        raise SystemExit(f"{path}: the page failed: {failed}")
    return 1000 * (time.perf_counter() - start)


SET_TIMED = """
var n = arguments[0], done = arguments[arguments.length - 1];
var pixels = new Float32Array(n);
for (var i = 0; i < n; i++) { pixels[i] = Math.random(); }
var start = performance.now();
window.cnnNote.set(pixels).then(function () { done(performance.now() - start); }, function (e) { done(String(e)); });
"""


def set_times(driver, values: int, count: int) -> list[float]:
    """Milliseconds of `count` cnnNote.set(random picture) round trips, measured in the page."""
    times = []
    for _ in range(count):
        took = driver.execute_async_script(SET_TIMED, values)
        if isinstance(took, str):
            raise SystemExit(f"cnnNote.set failed: {took}")
        times.append(took)
    return times


def stroke_times(driver, count: int, seed: int) -> list[float]:
    """Milliseconds from pointerup to every map redrawn, as the page records them, for `count` strokes on #draw."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.by import By

    canvas, clear = driver.find_element(By.ID, "draw"), driver.find_element(By.ID, "clear")
    half = min(canvas.size["width"], canvas.size["height"]) / 2 - 4  # offsets are from the canvas's centre
    rng, shapes = np.random.default_rng(seed), list(STROKES)
    for n in range(count):
        clear.click()
        before = driver.execute_script("return window.cnnNote.timings.length;")
        points = np.array(STROKES[shapes[n % len(shapes)]])
        points = points * rng.uniform(0.75, 1.05) + rng.uniform(-0.15, 0.15, 2) + rng.normal(0, 0.04, points.shape)
        points = np.clip(points, -0.95, 0.95) * half
        action = ActionBuilder(driver, duration=20)  # a 20 ms move between points: a quick, real stroke
        action.pointer_action.move_to(canvas, int(points[0][0]), int(points[0][1])).pointer_down()
        for x, y in points[1:]:
            action.pointer_action.move_to(canvas, int(x), int(y))
        action.pointer_action.pointer_up()
        action.perform()
        for _ in range(100):  # pointerup is handled before perform returns; wait a little in case it is not
            if driver.execute_script("return window.cnnNote.timings.length;") > before:
                break
            time.sleep(0.05)
        else:
            raise SystemExit(f"stroke {n + 1}: the page recorded no timing after pointerup")
    return driver.execute_script("return window.cnnNote.timings.slice(-arguments[0]);", count)


def page_against_keras(driver, models: list, rng) -> tuple[list[float], float]:
    """For one random input set on the open page: per model, max |page's probabilities - model(x, training=False)|; and
    over every shown layer of every model, the largest max |page - Keras| / max |Keras| (a layer's values relative)."""
    from cnn_note.backend import keras

    shape = driver.execute_script("return window.cnnNoteModels[0].input;")
    picture = rng.random(shape).astype("float32")
    failed = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "window.cnnNote.set(arguments[0]).then(function () { done(null); }, function (e) { done(String(e)); });",
        picture.ravel().tolist())
    if failed:
        raise SystemExit(f"cnnNote.set failed: {failed}")
    shown = driver.execute_script("return window.cnnNote.read().models;")
    differences, relative = [], 0.0
    for model, seen in zip(models, shown):
        x = picture[None] if len(model.input_shape) == 4 else picture.reshape(1, -1)
        expected = np.asarray(model(x, training=False), dtype="float64")[0]
        differences.append(float(np.abs(np.asarray(seen["probabilities"], dtype="float64") - expected).max()))
        for name, values in seen["layers"].items():
            keras_values = np.asarray(keras.Model(model.inputs[0], model.get_layer(name).output)(x, training=False),
                                      dtype="float64").ravel()
            scale = np.abs(keras_values).max() or 1.0
            relative = max(relative, float(np.abs(np.asarray(values, dtype="float64") - keras_values).max() / scale))
    return differences, relative


def console_lines(driver) -> list[str]:
    """The page's console warnings and errors so far."""
    return [f"{entry['level']}: {entry['message']}" for entry in driver.get_log("browser")
            if entry["level"] in ("WARNING", "SEVERE")]


def spread(times: list[float]) -> str:
    return f"{statistics.median(times):.1f} ms (min {min(times):.1f}, max {max(times):.1f})"


def main(argv: list[str] | None = None) -> None:
    parser = arguments.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=50, help="strokes drawn on the note's page (default: 50)")
    parser.add_argument("--sets", type=int, default=50,
                        help="cnnNote.set round trips timed on each page (default: 50)")
    parser.add_argument("--data", default=os.environ.get("MNIST_PATH") or os.path.join(ROOT, "..", "shared", "data", "mnist.npz"),
                        help="MNIST .npz for the note's shipped inputs (default: $MNIST_PATH, else ../shared/data/mnist.npz; "
                             "random digits when absent)")
    parser.add_argument("--mobilenet-layers", default="block_1_project_BN,block_8_add,out_relu",
                        help="MobileNetV2 layers shown on its second page, timed and compared with Keras "
                             "(default: block_1_project_BN,block_8_add,out_relu)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the strokes' jitter and the sanity input (default: 0)")
    parser.add_argument("--keep", default=None, help="write the pages into this folder and keep them (default: a temporary one)")
    args = parser.parse_args(argv)
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(path)]
    if missing:
        raise SystemExit(f"no {', '.join(missing)}: apt-get install chromium chromium-driver")
    from cnn_note.io.machine import machine

    with tempfile.TemporaryDirectory() as scratch:
        folder = os.path.abspath(args.keep) if args.keep else scratch
        pages = write_pages(folder, args.data, args.mobilenet_layers.split(","))
        sizes = page_bytes(pages["note"])
        driver = chromium(os.path.join(scratch, "profile"))
        load_before = os.getloadavg()[0]
        try:
            rng = np.random.default_rng(args.seed)
            note_ready = open_page(driver, pages["note"])
            note_console = console_lines(driver)
            strokes = stroke_times(driver, args.strokes, args.seed)
            cnn_sets = set_times(driver, 28 * 28, args.sets)
            note_same = page_against_keras(driver, [pages["cnn"], pages["dnn"]], rng)
            note_console += console_lines(driver)
            mobile_ready = open_page(driver, pages["mobile"])
            mobile_sets = set_times(driver, 96 * 96 * 3, args.sets)
            mobile_same = page_against_keras(driver, [pages["mobilenet"]], rng)
            mobile_console = console_lines(driver)
            open_page(driver, pages["mobile_maps"])
            maps_sets = set_times(driver, 96 * 96 * 3, max(5, args.sets // 5))
            maps_same = page_against_keras(driver, [pages["mobilenet"]], rng)
            mobile_console += console_lines(driver)
            version = driver.capabilities.get("browserVersion", "?")
            backend = driver.execute_script("return cnnNote.backend")
        finally:
            driver.quit()
        # The same pages on the CPU backend (no WebAssembly), side by side in this run: what the binary buys.
        driver = chromium(os.path.join(scratch, "profile-cpu"), wasm=False)
        try:
            open_page(driver, pages["note"])
            cpu_strokes = stroke_times(driver, max(5, args.strokes // 5), args.seed)
            open_page(driver, pages["mobile"])
            cpu_backend = driver.execute_script("return cnnNote.backend")
            cpu_sets = set_times(driver, 96 * 96 * 3, max(5, args.sets // 5))
            load_after = os.getloadavg()[0]
        finally:
            driver.quit()

    mb = 1e6
    print(f"on {machine()['processor']} ({os.cpu_count()} cores), headless Chromium {version}, {WIDTH}x{HEIGHT}, "
          f"TensorFlow.js {backend} backend (then {cpu_backend}, WebAssembly removed); random weights; load average "
          f"{load_before:.2f} before, {load_after:.2f} after")
    print(f"note's page: CNN shows {', '.join(pages['shown'])}; DNN shows {', '.join(pages['dnn_shown'])}; "
          f"inputs: {pages['inputs']}")
    print(f"MobileNetV2 96x96x3: {pages['mobile_params']:,} parameters, shows {len(pages['mobile_shown'])} layers "
          f"(the second page: {', '.join(pages['maps_shown'])}, {pages['maps']} maps)")
    print(f"export + write (Python): note's page {pages['note_seconds']:.1f} s, MobileNetV2's {pages['mobile_seconds']:.1f} s")
    print(f"page open to cnnNote.ready: note's {note_ready:.0f} ms, MobileNetV2's {mobile_ready:.0f} ms")
    rows = [
        (f"note's page: pointerup -> every map redrawn, median of {len(strokes)} strokes", spread(strokes), "< 30 ms"),
        (f"note's page: cnnNote.set round trip, median of {len(cnn_sets)} ", spread(cnn_sets), "(compare)"),
        (f"MobileNetV2 96x96x3: cnnNote.set round trip, median of {len(mobile_sets)}", spread(mobile_sets), "< 300 ms"),
        (f"MobileNetV2, {pages['maps']} maps drawn too: set round trip, median of {len(maps_sets)}", spread(maps_sets), ""),
        (f"CPU backend: note's page, pointerup -> redrawn, median of {len(cpu_strokes)} strokes", spread(cpu_strokes), ""),
        (f"CPU backend: MobileNetV2 set round trip, median of {len(cpu_sets)}", spread(cpu_sets), ""),
        ("CPU / WebAssembly, medians: note's strokes; MobileNetV2's sets",
         f"{statistics.median(cpu_strokes) / statistics.median(strokes):.1f}x; "
         f"{statistics.median(cpu_sets) / statistics.median(mobile_sets):.1f}x", ""),
        ("note's page loads: live.html + live/ (CNN and DNN)", f"{sizes['total'] / mb:.2f} MB", "< 8 MB"),
        ("  of which TensorFlow.js (its scripts and wasm.js, the binary)", f"{sizes['tfjs'] / mb:.2f} MB", ""),
        ("  of which the models' scripts", f"{sizes['models'] / mb:.2f} MB", ""),
        ("  of which the inputs", f"{sizes['inputs'] / mb:.3f} MB", ""),
        ("  the rest (live.html, live.js, live.css, LICENSE)", f"{sizes['rest'] / mb:.3f} MB", ""),
        ("page vs Keras, max |probability difference|: CNN, DNN", ", ".join(f"{d:.1e}" for d in note_same[0]), "< 1e-4"),
        ("page vs Keras, max |probability difference|: MobileNetV2", f"{mobile_same[0][0]:.1e}", "< 1e-4"),
        ("page vs Keras, shown layers, worst max|diff| / max|Keras|: note's", f"{note_same[1]:.1e}", "< 1e-4"),
        ("page vs Keras, shown layers, worst max|diff| / max|Keras|: MobileNetV2", f"{maps_same[1]:.1e}", "< 1e-4"),
    ]
    width = max(len(row[0]) for row in rows)
    measured = max(len(row[1]) for row in rows)
    print(f"\n{'what':<{width}}  {'measured':<{measured}}  goal")
    for what, value, goal in rows:
        print(f"{what:<{width}}  {value:<{measured}}  {goal}")
    print(f"\nfirst stroke {strokes[0]:.1f} ms, first set: CNN page {cnn_sets[0]:.1f} ms, MobileNetV2 {mobile_sets[0]:.1f} ms")
    met = [statistics.median(strokes) < 30, statistics.median(mobile_sets) < 300, sizes["total"] < 8e6,
           max(note_same[0] + mobile_same[0] + maps_same[0]) < 1e-4, max(note_same[1], maps_same[1]) < 1e-4]
    print(f"goals met: {sum(met)} of {len(met)}")
    for label, lines in (("note's page", note_console), ("MobileNetV2's page", mobile_console)):
        print(f"console ({label}): {len(lines)} warnings or errors" + "".join(f"\n  {line[:200]}" for line in lines[:5]))


if __name__ == "__main__":
    main(sys.argv[1:])
