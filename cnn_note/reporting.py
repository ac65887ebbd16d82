"""Training results on disk: metrics.json, history.csv, curves.png, model.keras and comparison.md."""

from __future__ import annotations

import json
import os

from cnn_note import figures, results
from cnn_note.training import NOTE, Config, Run, float32_copy, metrics

MODELS = {"dnn": "DNN 784-500-500-500-10", "cnn": "CNN conv25-pool-conv50-pool-dense100"}


def save_runs(config: Config, runs: list[Run]) -> dict:
    """Write one model's results under results/<model>/ and refresh results/comparison.md."""
    directory = os.path.join(config.results_dir, config.model)
    record = metrics(config, runs)
    rows = [{"seed": run.seed, "epoch": epoch + 1, **{key: values[epoch] for key, values in run.history.items()}}
            for run in runs for epoch in range(len(run.history["loss"]))]
    results.write_csv(os.path.join(directory, "history.csv"), rows)
    results.save_figure(os.path.join(directory, "curves.png"),
                        figures.curves({run.seed: run.history for run in runs}, MODELS[config.model]))
    # The model of the first seed is the one later scripts load, so a given --seed always gives the same one.
    results.save_model(os.path.join(directory, "model.keras"), float32_copy(runs[0].model, config))
    results.write_json(os.path.join(directory, "metrics.json"), record)
    results.write_text(os.path.join(config.results_dir, "comparison.md"), comparison(config.results_dir))
    return record


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
            f"| {test['mean']:.4f} ± {test['std']:.4f} | {len(record['seeds'])} "
            f"| {NOTE[model]['train_acc']} / {NOTE[model]['test_acc']} | {record['seconds']['mean']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def acc_line(name: str, values: dict, count: int) -> str:
    """The note's `Train Acc:` / `Test Acc:` line, with spread when there are several seeds."""
    if count == 1:
        return f"{name}: {values['mean']:.4f}"
    return (f"{name}: {values['mean']:.4f} ± {values['std']:.4f} "
            f"(mean ± std over {count} seeds; min {values['min']:.4f}, max {values['max']:.4f})")
