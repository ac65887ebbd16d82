"""Training results on disk: metrics.json, history.csv, curves.png, model.keras and comparison.md."""

from __future__ import annotations

import json
import os

from cnn_note import settings
from cnn_note.io import writing
from cnn_note.io.machine import machine
from cnn_note.note.training import NOTE, Config, Run, float32_copy, metrics
from cnn_note.plots import figures

MODELS = {
    "dnn": "DNN 784-500-500-500-10",
    "cnn": "CNN conv25-pool-conv50-pool-dense100",
    "cnn_note_layout": "CNN as the note's code builds it (conv1 channels_first)",
}


NOTE_LAYOUT = (
    "The note reshapes each image to (1, 28, 28) and tells only its first Conv2D "
    "`data_format='channels_first'`. Every later layer keeps Keras' default, channels_last, so it reads "
    "conv1's output (25 filters, 26 rows, 26 columns) as 25 rows, 26 columns and 26 channels. pool1 then "
    "takes the maximum over pairs of neighbouring filters and pairs of rows and leaves the columns alone, "
    "giving (12, 13, 26), and conv2 sees the digit's 26 columns as its input channels "
    "(3 x 3 x 26 x 50 + 50 = 11,750 weights instead of 11,300). The model still learns: it is another "
    "network, not a broken one. `python train_cnn.py --layout note` trains it; the table above has both."
)


def save_runs(config: Config, runs: list[Run], test: tuple | None = None) -> dict:
    """Write one model's results under results/<name>/ and refresh results/comparison.md."""
    directory = os.path.join(config.results_dir, config.name)
    record = metrics(config, runs)
    rows = [{"seed": run.seed, "epoch": epoch + 1, **{key: values[epoch] for key, values in run.history.items()}}
            for run in runs for epoch in range(len(run.history["loss"]))]
    writing.write_csv(os.path.join(directory, "history.csv"), rows)
    writing.save_figure(os.path.join(directory, "curves.png"),
                        figures.curves(runs, MODELS[config.name]))
    if config.layout == "note" and test is not None:
        conv1, pool1 = pooling_views(runs[0].model, test[0][:1])
        writing.save_figure(os.path.join(directory, "pooling.png"), figures.note_pooling(test[0][0, 0], conv1, pool1))
    # The model of the first seed is the one later scripts load, so a given --seed always gives the same one.
    writing.save_model(settings.trained_model(config.name, config.results_dir), float32_copy(runs[0].model, config))
    writing.write_json(os.path.join(directory, "metrics.json"), record)
    writing.write_text(os.path.join(config.results_dir, "comparison.md"), comparison(config.results_dir))
    return record


def pooling_views(model, images):
    """conv1's and pool1's outputs for `images`: what the note layout's accidental pooling takes and gives."""
    from cnn_note.backend import keras

    conv1, pool1 = keras.Model(model.inputs[0], [model.get_layer("conv1").output, model.get_layer("pool1").output])(images)
    return keras.ops.convert_to_numpy(conv1)[0], keras.ops.convert_to_numpy(pool1)[0]


def comparison(results_dir: str) -> str:
    """A Markdown table of every model with results in `results_dir`, beside the note's figures."""
    lines = [
        "| model | parameters | train acc | test acc (mean ± std) | seeds | note train / test | training seconds (mean) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for model in MODELS:
        path = os.path.join(results_dir, model, "metrics.json")
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
        train, test = record["train_acc"], record["test_acc"]
        lines.append(
            f"| {MODELS[model]} | {record['parameters']:,} | {train['mean']:.4f} ± {train['std']:.4f} "
            f"| {test['mean']:.4f} ± {test['std']:.4f} | {seed_count(record)} "
            f"| {NOTE[record['model']]['train_acc']} / {NOTE[record['model']]['test_acc']} | {record['seconds']['mean']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def at_once(record: dict) -> int:
    """How many seeds of a metrics.json record trained at the same time (records from before --jobs: one)."""
    return min(record["config"].get("jobs", 1), len(record["seeds"]))


def seed_count(record: dict) -> str:
    """The seed count, and how many trained at once when several did: their seconds were then shared."""
    return f"{len(record['seeds'])}" + (f" ({at_once(record)} at once)" if at_once(record) > 1 else "")


def acc_line(name: str, values: dict, count: int) -> str:
    """The note's `Train Acc:` / `Test Acc:` line, with spread when there are several seeds."""
    if count == 1:
        return f"{name}: {values['mean']:.4f}"
    return (f"{name}: {values['mean']:.4f} ± {values['std']:.4f} "
            f"(mean ± std over {count} seeds; min {values['min']:.4f}, max {values['max']:.4f})")


def record_run(results_dir: str, seconds: dict[str, float], failed: list[str], command: str) -> dict[str, dict]:
    """Add this run's stages to results_dir/run.json (stages not run keep the record of the run that made them); returns it all."""
    path = os.path.join(results_dir, "run.json")
    runs = {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            runs = json.load(handle)
    processor = machine()["processor"]
    runs.update({stage: {"seconds": round(value, 1), "failed": stage in failed, "command": command, "processor": processor}
                 for stage, value in seconds.items()})
    writing.write_json(path, runs)
    return runs


def report(results_dir: str, runs: dict[str, dict]) -> str:
    """REPORT.md: the note's numbers beside ours and every picture, linked relative to results_dir; `runs` as record_run gives."""
    from cnn_note.note.training import versions

    def load(*parts: str) -> dict | None:
        path = os.path.join(results_dir, *parts)
        if not os.path.isfile(path):
            return None
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)

    def picture(path: str, alt: str) -> str:
        return f"![{alt}]({path})" if os.path.isfile(os.path.join(results_dir, path)) else f"*({path} was not produced)*"

    commands = list(dict.fromkeys(run["command"] for run in runs.values()))
    failed = [stage for stage, run in runs.items() if run["failed"]]
    made = f"Made by `{commands[0]}`. Every number and picture below comes from that run.\n" if len(commands) == 1 else \
        "Made by " + " then ".join(f"`{command}`" for command in commands) + ": the Run table says which stage came from which.\n"
    out = [f"# Reproducing the ML2020 CNN note\n\n{made}"]
    if failed:
        out.append(f"**Stages that failed: {', '.join(failed)}.** Their sections are missing or stale.\n")
    out += ["## DNN versus CNN on the first 10,000 MNIST images\n", comparison(results_dir)]
    for model in MODELS:
        record = load(model, "metrics.json")
        if record:
            out += [f"\n### {MODELS[model]}: each seed\n", "| seed | train acc | test acc | train loss | test loss | seconds |",
                    "| ---: | ---: | ---: | ---: | ---: | ---: |"]
            out += [f"| {r['seed']} | {r['train_acc']:.4f} | {r['test_acc']:.4f} | {r['train_loss']:.4f} | {r['test_loss']:.4f} "
                    f"| {r['seconds']:.1f} |" for r in record["runs"]]
            config = record["config"]
            out.append(f"\n{config['train_samples']:,} training images, {config['epochs']} epochs, batch {config['batch_size']}, "
                       f"Adam, categorical cross-entropy{', mixed bfloat16' if config['mixed_precision'] else ''}"
                       + (f"; {at_once(record)} seeds trained at once, sharing the processor" if at_once(record) > 1 else "")
                       + ".\n")
            out.append(picture(f"{model}/curves.png", f"{model} training curves"))
    if load("cnn_note_layout", "metrics.json"):
        out += ["\n### The note's code builds a different CNN from the one it describes\n",
                NOTE_LAYOUT, "", picture("cnn_note_layout/pooling.png", "what the note's pool1 does to conv1's maps")]
    out += ["\n## What the filters respond to (gradient ascent on the input)\n",
            "Each tile is the input that most excites one filter; under it, the filter index and its final mean activation.\n",
            picture("filters/conv1.png", "conv1 filters"), "", picture("filters/conv2.png", "conv2 filters")]
    out += dataset_examples(results_dir, runs.get("visualize_filters"), picture)
    out += ["\n### A digit's feature maps\n", picture("filters/feature_maps.png", "feature maps"),
            "\n### What the CNN thinks each digit looks like\n", picture("filters/classes.png", "class images"),
            "\n## Deep dream: the digit with its features amplified\n"]
    dream_dir = os.path.join(results_dir, "dream")
    dreams = sorted(name for name in os.listdir(dream_dir)
                    if name.endswith(".png") and not name.endswith("_dream.png")) if os.path.isdir(dream_dir) else []
    out += [picture(f"dream/{name}", name) for name in dreams] or ["*(no dreams were produced)*"]
    why = load("why_cnn", "why_cnn.json")
    out.append("\n## Why CNN: the note's three reasons, measured\n")
    if why:
        p = why["parameters"]
        out += [f"1. **A pattern is smaller than the image.** DNN {p['dnn']['total']:,} parameters, "
                f"test acc {p['dnn']['test_acc']:.4f}; "
                f"CNN {p['cnn']['total']:,} parameters, test acc {p['cnn']['test_acc']:.4f}: "
                f"the DNN has {why['parameter_ratio']:.2f}x the parameters.\n",
                f"2. **The same pattern appears in different places** (test accuracy, {why['how']['shift']}, "
                f"{why['test_samples']:,} test images):\n",
                "| shift (pixels) | DNN | CNN |\n| ---: | ---: | ---: |"]
        out += [f"| {k} | {d:.4f} | {c:.4f} |" for k, d, c in zip(why["shift"]["pixels"], why["shift"]["dnn"], why["shift"]["cnn"])]
        out += ["", picture("why_cnn/shift.png", "accuracy against shift"),
                f"\n3. **Subsampling keeps the object** ({why['how']['subsample']}):\n",
                "| subsampling | DNN | CNN |\n| --- | ---: | ---: |"]
        out += [f"| {variant} | {acc['dnn']:.4f} | {acc['cnn']:.4f} |" for variant, acc in why["subsample"].items()]
        out += ["", picture("why_cnn/subsample.png", "subsampled digits")]
    else:
        out.append("*(why_cnn did not run)*")
    out += where_they_look(load("explain", "look.json"), picture)
    mixed = len(commands) > 1
    out += ["\n## Run\n", "| stage | seconds |" + (" command | processor |" if mixed else ""),
            "| --- | ---: |" + (" --- | --- |" if mixed else "")]
    out += [f"| {stage}{' (failed)' if run['failed'] else ''} | {run['seconds']:.1f} |"
            + (f" `{run['command']}` | {run['processor']} |" if mixed else "") for stage, run in runs.items()]
    out += [f"| total | {sum(run['seconds'] for run in runs.values()):.1f} |", "",
            "| machine" + (" (the last run's)" if mixed else "") + " | |\n| --- | --- |"]
    out += [f"| {key} | {value} |" for key, value in {**machine(), **versions()}.items()]
    return "\n".join(out) + "\n"


def dataset_examples(results_dir: str, stage: dict | None, picture) -> list[str]:
    """REPORT.md's section on the real inputs that excite each filter most and least, from results/filters/examples.npz."""
    import numpy as np

    from cnn_note.results import SavedExamples

    path = os.path.join(results_dir, "filters", "examples.npz")
    out = ["\n### The real digits that excite each filter most and least\n"]
    if not os.path.isfile(path):
        return out + ["*(no dataset examples were produced)*"]
    saved = SavedExamples.from_npz(path)
    layers = list(saved.examples)
    first = saved.examples[layers[0]]
    rows, wins = [], [0, 0, 0]
    for layer, examples in saved.examples.items():
        mine, best = saved.optimised_score[layer], examples.best_mean
        unit, best_unit = saved.optimised[layer], examples.top_activations[:, 0]
        height, width = examples.field or (-1, -1)  # as the file holds a field not known
        wins = [wins[0] + int((mine > best).sum()), wins[1] + int((unit > best_unit).sum()), wins[2] + len(best)]
        rows.append(f"| {layer} | {height}x{width} | {np.median(mine):.2f} | {np.median(best):.2f} | "
                    f"{int((mine > best).sum())} of {len(best)} | {np.median(unit):.2f} | {np.median(best_unit):.2f} | "
                    f"{int((unit > best_unit).sum())} of {len(best)} |")
    count, inputs, seconds, processor = first.top.shape[1], saved.inputs[0], first.seconds, saved.processor
    out += [f"Beside each filter's optimised picture, the {count} inputs whose strongest unit responds most and the {count} "
            "whose weakest responds least, each shown as the region that unit sees (its receptive field), with that unit's "
            "activation (before any ReLU; the note's convolutions have none). Distill's Feature Visualization reports that "
            "optimisation finds stronger stimuli than any real input. Here, medians over each layer's filters:\n",
            "| layer | field | optimised: mean activation | best input's | optimised higher | optimised: strongest unit "
            "| best input's | optimised higher |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |", *rows,
            f"\nOn the mean activation, what the ascent maximises, the optimised picture is higher for {wins[0]} of {wins[2]} "
            f"filters; on the single strongest unit, for {wins[1]} of {wins[2]}. {inputs[0].upper() + inputs[1:]} were ranked for "
            f"every filter of {', '.join(layers)} in one pass of {seconds:.1f} s on {processor}"
            + (f"; the filter pictures above come from the run on {stage['processor']}, these from seed 0 trained on "
               f"{processor}" if stage and stage["processor"] != processor else "") + ".\n"]
    pictures = [picture(f"filters/{layer}_examples.png", f"{layer} dataset examples") for layer in layers]
    return out + [pictures[0], *[part for shown in pictures[1:] for part in ("", shown)]]


def agreement(values: dict[str, float], method: str) -> str:
    """A network's agreement for `method` (look.json's), as REPORT.md and reproduce.py's log show it; where the method
    could not run, why in words: Grad-CAM, the one method a network can lack, needs a layer with height and width."""
    return f"{values[method]:.2f}" if method in values else "(no 4-D layer)"


def where_they_look(look: dict | None, picture) -> list[str]:
    """REPORT.md's section on where the DNN and the CNN look, from results/explain/look.json."""
    out = ["\n## Where do the DNN and the CNN look?\n"]
    if not look:
        return out + ["*(where_they_look did not run)*"]
    dy, dx = look["shift"]
    out += [f"`explain.py` on test digits 0-{look['digits'] - 1}, each explained for its label, with both networks, as they are and "
            f"shifted {dx} pixels right{f' and {dy} down' if dy else ''} (why_cnn's shift). If a network's reasons move with the digit, "
            "the map of the shifted digit is the map of the digit, shifted: their correlation, mean over the digits, is in the table "
            f"(1: the map moved with the digit). On these digits the CNN is right on {look['accuracy']['cnn']:.0%} as they are and "
            f"{look['accuracy_shifted']['cnn']:.0%} shifted; the DNN on {look['accuracy']['dnn']:.0%} and "
            f"{look['accuracy_shifted']['dnn']:.0%}.\n",
            "| method | CNN | DNN |\n| --- | ---: | ---: |"]
    out += [f"| {method} | {agreement(look['agreement']['cnn'], method)} | {agreement(look['agreement']['dnn'], method)} |"
            for method in look["methods"]]
    out += ["", picture("explain/look.png", "where the CNN and the DNN look"),
            "\nEach digit's own figure, every method: `explain/cnn/` and `explain/dnn/`; all maps: `attributions.npz` there."]
    return out
