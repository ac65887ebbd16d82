"""The command line shared by train_dnn.py and train_cnn.py."""

from __future__ import annotations

import os

from cnn_note.cli import arguments
from cnn_note.errors import Command
from cnn_note.io import progress
from cnn_note.note import data
from cnn_note.settings import JOBS, Recipe


def parse_args(model: str, argv: list[str] | None):
    """Flags for one training script; every default is the note's recipe."""
    parser = arguments.ArgumentParser(prog=Command(f"train_{model}").prog,
                                      description=f"Train the note's {model.upper()} on MNIST and compare with the note.")
    arguments.add_settings(parser, Recipe, ["epochs", "batch_size", "train_samples", "seed"])
    parser.add_argument("--seeds", type=arguments.positive_int, default=1,
                        help="train this many seeds (seed, seed+1, ...) and report mean ± std")
    parser.add_argument("--jobs", type=arguments.positive_int, default=JOBS,
                        help="seeds trained at the same time, each beyond the first in a process of its own; the weights are "
                             "those of one at a time, bit for bit. On 2 cores the CNN's 3 seeds take 90-101 s at once, 122 s one "
                             "after another (docs/speed.md#the-scripts-against-the-notes)")
    if model == "cnn":
        parser.add_argument("--conv-activation", choices=["none", "relu"], default="none",
                            help="activation after each convolution (the note has none)")
        parser.add_argument("--layout", choices=["intended", "note"], default="intended",
                            help="intended: the CNN the note describes (channels_last, 137,660 parameters); note: the one its "
                                 "code builds, conv1 channels_first and every later layer channels_last (138,110 parameters; "
                                 "results go to cnn_note_layout/)")
    parser.add_argument("--mixed-precision", action="store_true",
                        help="compute in bfloat16, keep weights in float32: the big speed lever on processors with bf16 "
                             "(AVX-512 BF16 or AMX: 1.9x on the CNN with AMX), for about 0.2 points of test accuracy "
                             "(docs/speed.md#training-levers)")
    arguments.add_settings(parser, Recipe, ["steps_per_execution", "epoch_test_samples"])
    parser.add_argument("--no-epoch-test", dest="epoch_test_samples", action="store_const", const=0,
                        help="the same as --epoch-test-samples 0 (curves.png then shows training and the final test score)")
    parser.add_argument("--dataset", choices=data.DATASETS, default="mnist", help="which Keras dataset")
    arguments.add_data_argument(parser)
    parser.add_argument("--results-dir", default="results", help=f"where {model}/ and comparison.md are written")
    parser.add_argument("--quiet", action="store_true", help="no model summary or progress bars")
    return parser.parse_args(argv)


def run(model: str, argv: list[str] | None = None) -> dict:
    """Train the named model as the flags say, save its results and print the note's two lines."""
    args = parse_args(model, argv)
    with arguments.reported_errors(Command(f"train_{model}").prog):
        from cnn_note.io import writing
        from cnn_note.note import reporting, training  # TensorFlow loads here, after the flags are checked

        config = training.Config(
            model=model, layout=getattr(args, "layout", "intended"), epochs=args.epochs, batch_size=args.batch_size,
            train_samples=args.train_samples, seed=args.seed, seeds=args.seeds, jobs=args.jobs,
            conv_activation=None if getattr(args, "conv_activation", "none") == "none" else args.conv_activation,
            mixed_precision=args.mixed_precision, steps_per_execution=args.steps_per_execution, epoch_test_samples=args.epoch_test_samples,
            dataset=args.dataset, data=args.data, results_dir=args.results_dir, verbose=0 if args.quiet else progress.keras_verbosity(),
        )
        writing.ensure_writable(os.path.join(args.results_dir, config.name))
        train, test = training.prepare(config)
        runs = []
        for run in training.train_seeds(config, train, test, summary=not args.quiet):
            print(f"seed {run.seed}: train acc {run.train_acc:.4f}, test acc {run.test_acc:.4f}, {run.seconds:.1f} s", flush=True)
            runs.append(run)
        record = reporting.save_runs(config, runs, test)
        print(f"results written to {os.path.join(config.results_dir, config.name)}/ and {config.results_dir}/comparison.md")
        print(reporting.acc_line("Train Acc", record["train_acc"], len(runs)))
        print(reporting.acc_line("Test Acc", record["test_acc"], len(runs)))
    return record
