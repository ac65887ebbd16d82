"""Reproduce the whole note with one command: train both models, look inside the CNN, measure why.

Runs train_dnn, train_cnn (several seeds each; the CNN as the note meant it, then as its code
builds it), visualize_filters, deep_dream and why_cnn in order by calling their main()s, prints
each stage's time, ends with the comparison table, and writes results/REPORT.md. A stage that
fails is reported and the others still run.
"""

from __future__ import annotations

import importlib
import os
import sys
import time

from cnn_note import cli, results

PROG = "reproduce.py"


def parse_args(argv: list[str] | None):
    parser = cli.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=cli.positive_int, default=None, help="training seeds per model (default: 3, or 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a small budget for a smoke check (writes to results_quick/ unless --results-dir)")
    parser.add_argument("--results-dir", default=None, help="where everything goes (default: results, or results_quick with --quick)")
    cli.add_data_argument(parser)
    return parser.parse_args(argv)


def stages(results_dir: str, seeds: int, quick: bool, data: list[str]) -> list[tuple[str, str, list[str]]]:
    """(stage, script module, argv) in order; --quick shrinks every budget."""
    model = os.path.join(results_dir, "cnn", "model.keras")
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
    ]


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run every stage and write REPORT.md; returns each stage's seconds, exits with status 2 if one failed."""
    args = parse_args(argv)
    results_dir = args.results_dir or ("results_quick" if args.quick else "results")
    seeds = args.seeds or (1 if args.quick else 3)
    command = " ".join(["python", PROG, *(argv if argv is not None else sys.argv[1:])])
    seconds, failed = {}, []
    with cli.reported_errors(PROG):
        results.ensure_writable(results_dir)
        from cnn_note import data

        # Every stage reads MNIST: without it they would all fail one by one and REPORT.md would say so.
        data.load("mnist", data.data_path(args.data))
    for stage, module, stage_argv in stages(results_dir, seeds, args.quick, ["--data", args.data] if args.data else []):
        print(f"\n=== {stage}: python {module}.py {' '.join(stage_argv)}", flush=True)
        start = time.perf_counter()
        try:
            importlib.import_module(module).main(stage_argv)
        except SystemExit as stop:  # the stage already printed its one-line reason
            if stop.code:
                failed.append(stage)
        seconds[stage] = time.perf_counter() - start
        print(f"=== {stage}: {'FAILED' if stage in failed else 'done'} in {seconds[stage]:.1f} s", flush=True)

    from cnn_note import reporting

    results.write_text(os.path.join(results_dir, "REPORT.md"), reporting.report(results_dir, seconds, failed, command))
    print("\nstage times: " + ", ".join(f"{stage} {s:.1f} s" for stage, s in seconds.items()) + f"; total {sum(seconds.values()):.1f} s")
    print(reporting.comparison(results_dir), end="")
    print(f"report: {os.path.join(results_dir, 'REPORT.md')}" + (f"; failed stages: {', '.join(failed)}" if failed else ""))
    if failed:
        raise SystemExit(2)
    return seconds


if __name__ == "__main__":
    main(sys.argv[1:])
