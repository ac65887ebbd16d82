"""Benchmark: the default training scripts against the note's own script, whole processes side by side.

Each repeat runs, as fresh processes and in this order: the note's script (DNN), train_dnn.py,
the note's script (CNN), train_cnn.py, every one with its defaults (ours write to a temporary
folder, so results/ is left alone). Prints each one's median wall time and ours / the note's,
then runs reproduce.py once (also into a temporary folder) and prints the stage times it reports.
With --seeds-at-once it also times `train_cnn.py --seeds 3` at its default --jobs against --jobs 1.

    python benchmarks/scripts_vs_note.py --data ../shared/data/mnist.npz
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from cnn_note.cli import arguments  # noqa: E402
from cnn_note.note import data  # noqa: E402

NOTE_SCRIPT = os.path.join(ROOT, "benchmarks", "note_script_keras3.py")


def wall(command: list[str]) -> float:
    """Seconds from start to exit of one process; its output is read and dropped, as a pipe would take it."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = arguments.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=arguments.positive_int, default=3, help="runs of each command; medians are compared")
    parser.add_argument("--no-reproduce", dest="reproduce", action="store_false", help="skip the reproduce.py run")
    parser.add_argument("--seeds-at-once", action="store_true",
                        help="also time train_cnn.py --seeds 3 with its default --jobs (seeds at once) against --jobs 1, once each")
    arguments.add_data_argument(parser)
    args = parser.parse_args(argv)
    path = data.data_path(args.data)
    if not path:
        parser.error("the note's script reads an npz: give --data PATH or set $MNIST_PATH")
    with tempfile.TemporaryDirectory() as scratch:
        ours = [sys.executable, "{script}", "--data", path, "--results-dir", scratch]
        pairs = {model: ([sys.executable, NOTE_SCRIPT, path, model], [part.format(script=f"train_{model}.py") for part in ours])
                 for model in ("dnn", "cnn")}
        times = {(model, side): [] for model in pairs for side in ("note", "ours")}
        for repeat in range(args.repeats):
            for model, (note, our) in pairs.items():
                for side, command in (("note", note), ("ours", our)):
                    times[model, side].append(wall(command))
                    print(f"repeat {repeat} {side:<4} {model}: {times[model, side][-1]:6.1f} s", flush=True)
        print("\n| script | wall (median) | against the note's script |\n| --- | ---: | ---: |")
        for model in pairs:
            note, our = statistics.median(times[model, "note"]), statistics.median(times[model, "ours"])
            print(f"| note's script, {model.upper()} | {note:.1f} s | 1.00 |")
            print(f"| `python train_{model}.py` | {our:.1f} s | {our / note:.2f} |")
        if args.seeds_at_once:
            three = [sys.executable, "train_cnn.py", "--seeds", "3", "--quiet", "--data", path, "--results-dir", scratch]
            together, apart = wall(three), wall([*three, "--jobs", "1"])
            print(f"\n`python train_cnn.py --seeds 3`: {together:.1f} s at once, {apart:.1f} s one after another "
                  f"(--jobs 1): {apart / together:.2f}x")
        if args.reproduce:
            done = subprocess.run([sys.executable, "reproduce.py", "--data", path, "--results-dir", os.path.join(scratch, "all")],
                                  cwd=ROOT, capture_output=True, text=True)
            stages = re.findall(r"^=== (\S+): (?:done|FAILED) in ([0-9.]+) s", done.stdout, re.M)
            print("\n| reproduce.py stage | seconds |\n| --- | ---: |")
            for stage, seconds in stages:
                print(f"| {stage} | {float(seconds):.1f} |")
            print(f"| total | {sum(float(seconds) for _, seconds in stages):.1f} |")


if __name__ == "__main__":
    main()
