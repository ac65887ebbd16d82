"""Reproduce the whole note with one command: train both models, look inside the CNN, measure why.

Runs train_dnn, train_cnn (several seeds each; the CNN as the note meant it, then as its code
builds it), visualize_filters, deep_dream, why_cnn and where_they_look (explain.py on both
networks, digits as they are and shifted) in order by calling their main()s, prints each stage's
time, ends with the comparison table, and writes results/REPORT.md. A stage that fails is
reported and the others still run.
"""

from __future__ import annotations

import importlib
import os
import sys
import time

from cnn_note import settings
from cnn_note.cli import arguments
from cnn_note.errors import Command
from cnn_note.io import writing

PROG = Command("reproduce").prog


def parse_args(argv: list[str] | None):
    parser = arguments.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=arguments.positive_int, default=None,
                        help="training seeds per model (default: 3, or 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="a small budget for a smoke check (writes to results_quick/ unless --results-dir)")
    parser.add_argument("--results-dir", default=None, help="where everything goes (default: writing, or results_quick with --quick)")
    parser.add_argument("--stages", default=None, metavar="LIST",
                        help=f"run only these stages, comma-separated, of {', '.join(STAGES)}; the report keeps the others' "
                             "results and times from the runs that made them (default: all)")
    arguments.add_data_argument(parser)
    return parser.parse_args(argv)


STAGES = ("train_dnn", "train_cnn", "train_cnn_note_layout", "visualize_filters", "deep_dream", "why_cnn", "where_they_look")
LOOK_SHIFT = (0, 2)  # why_cnn's shift of 2 pixels, to the right


def stages(results_dir: str, seeds: int, quick: bool, data: list[str]) -> list[tuple[str, str, list[str]]]:
    """(stage, script module, argv) in order; --quick shrinks every budget."""
    model = settings.trained_model("cnn", results_dir)
    train = ["--train-samples", "300", "--epochs", "1", "--quiet"] if quick else []
    return [
        ("train_dnn", "train_dnn", ["--seeds", str(seeds), "--results-dir", results_dir, *train, *data]),
        ("train_cnn", "train_cnn", ["--seeds", str(seeds), "--results-dir", results_dir, *train, *data]),
        ("train_cnn_note_layout", "train_cnn", ["--layout", "note", "--seeds", str(seeds), "--results-dir", results_dir, *train, *data]),
        ("visualize_filters", "visualize_filters", ["--model", model, "--out-dir", os.path.join(results_dir, "filters"),
                                                    *(["--steps", "10"] if quick else []), *data]),
        ("deep_dream", "deep_dream", ["--model", model, "--out-dir", os.path.join(results_dir, "dream"),
                                      *(["--steps", "3"] if quick else []), *data]),
        ("why_cnn", "why_cnn", ["--results-dir", results_dir, *(["--test-samples", "500"] if quick else []), *data]),
        ("where_they_look", "reproduce", ["--stages", "where_they_look", "--results-dir", results_dir,
                                          *(["--quick"] if quick else []), *data]),
    ]


def where_they_look(argv: list[str]) -> dict:
    """Where do the DNN and the CNN look? explain.py on the same test digits for both, and on them shifted as why_cnn.py shifts.

    Writes results/explain/<model>[_shifted]/ (explain.py's figures and attributions.npz), and
    look.json and look.png: how well each method's map moves with the digit, per network.
    """
    import numpy as np

    from cnn_note import attribution
    from cnn_note.cli import explain
    from cnn_note.note import distortions, reporting
    from cnn_note.plots import figures

    args = parse_args(argv)
    results_dir = args.results_dir
    count, budget = (10, ["--samples", "10", "--lime-samples", "100"]) if args.quick else (100, [])
    out = os.path.join(results_dir, "explain")
    saved = {}
    for model in ("cnn", "dnn"):
        for shifted in (False, True):
            name = f"{model}_shifted" if shifted else model
            shift = ["--shift", ",".join(map(str, LOOK_SHIFT))] if shifted else []
            path = settings.trained_model(model, results_dir)
            # explain.py names the model by its file name, model.keras for both networks: say which this is.
            print(f"\nthe {model.upper()} ({path}), digits {f'shifted {LOOK_SHIFT[1]} pixels right' if shifted else 'as they are'}:")
            written = explain.main(["--model", path, "--index", f"0-{count - 1}",
                                    "--class", "label", "--max-figures", "0" if shifted else "8", *shift, *budget,
                                    "--out-dir", os.path.join(out, name), *(["--data", args.data] if args.data else [])])
            saved[name] = written["attributions.npz"]
    methods = [m for m in attribution.METHODS if m in saved["cnn"]]
    agreement = {model: {m: float(np.mean(distortions.shift_agreement(saved[model][m], saved[f"{model}_shifted"][m], *LOOK_SHIFT)))
                         for m in methods if m in saved[model]} for model in ("cnn", "dnn")}
    both = [m for m in methods if m in saved["dnn"]]  # the figure's columns: Grad-CAM has nothing to show for the DNN
    record = {"digits": count, "shift": list(LOOK_SHIFT), "methods": methods, "agreement": agreement,
              "accuracy": {model: float(np.mean(saved[model]["predicted"] == saved[model]["classes"])) for model in ("cnn", "dnn")},
              "accuracy_shifted": {model: float(np.mean(saved[f"{model}_shifted"]["predicted"] == saved[f"{model}_shifted"]["classes"]))
                                   for model in ("cnn", "dnn")}}
    writing.write_json(os.path.join(out, "look.json"), record)
    rows = [(f"{model.upper()}{', shifted' if shifted else ''}", saved[name]["images"][digit],
             {m: saved[name][m][digit] for m in both})
            for digit in (0, 1) for model in ("cnn", "dnn") for shifted in (False, True)
            for name in [f"{model}_shifted" if shifted else model]]
    writing.save_figure(os.path.join(out, "look.png"), figures.explanation_rows(
        rows, attribution.SIGNED, f"Where the CNN and the DNN look: test digits 0 and 1, as they are and shifted "
                                  f"{LOOK_SHIFT[1]} pixels right, each explained for its label"))
    print("how well each map moves with the digit (correlation of the shifted digit's map with the map shifted):")
    for method in methods:
        print(f"  {method}: CNN {reporting.agreement(agreement['cnn'], method)}, DNN {reporting.agreement(agreement['dnn'], method)}")
    return record


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run every stage (or those of --stages) and write REPORT.md; returns each stage's seconds, exits with status 2 if one failed."""
    args = parse_args(argv)
    results_dir = args.results_dir or ("results_quick" if args.quick else "results")
    seeds = args.seeds or (1 if args.quick else 3)
    command = " ".join([Command("reproduce").said(), *(argv if argv is not None else sys.argv[1:])])
    seconds, failed = {}, []
    with arguments.reported_errors(PROG):
        chosen = args.stages.split(",") if args.stages else list(STAGES)
        unknown = [stage for stage in chosen if stage not in STAGES]
        if unknown:
            raise arguments.InputError(f"unknown stage {unknown[0]!r} in --stages: choose from {', '.join(STAGES)}")
        writing.ensure_writable(results_dir)
        from cnn_note.note import data

        # Every stage reads MNIST: without it they would all fail one by one and REPORT.md would say so.
        data.load("mnist", data.data_path(args.data))
    for stage, module, stage_argv in stages(results_dir, seeds, args.quick, ["--data", args.data] if args.data else []):
        if stage not in chosen:
            continue
        print(f"\n=== {stage}: {Command(module, ' '.join(stage_argv))}", flush=True)
        start = time.perf_counter()
        try:
            run = where_they_look if stage == "where_they_look" else importlib.import_module(f"cnn_note.cli.{module}").main
            run(stage_argv)
        except SystemExit as stop:  # the stage already printed its one-line reason
            if stop.code:
                failed.append(stage)
        seconds[stage] = time.perf_counter() - start
        print(f"=== {stage}: {'FAILED' if stage in failed else 'done'} in {seconds[stage]:.1f} s", flush=True)

    from cnn_note.note import reporting

    runs = reporting.record_run(results_dir, seconds, failed, command)
    writing.write_text(os.path.join(results_dir, "REPORT.md"), reporting.report(results_dir, runs))
    print("\nstage times: " + ", ".join(f"{stage} {s:.1f} s" for stage, s in seconds.items()) + f"; total {sum(seconds.values()):.1f} s")
    print(reporting.comparison(results_dir), end="")
    print(f"report: {os.path.join(results_dir, 'REPORT.md')}" + (f"; failed stages: {', '.join(failed)}" if failed else ""))
    if failed:
        raise SystemExit(2)
    return seconds


if __name__ == "__main__":
    main(sys.argv[1:])
