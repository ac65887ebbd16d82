"""The command-line plumbing: argument types, and --help that states each default once."""

from __future__ import annotations

import argparse
import importlib
import re

import pytest

from cnn_note.cli import arguments

SCRIPTS = ["train_dnn", "train_cnn", "visualize_filters", "deep_dream", "why_cnn", "explain", "reproduce"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_states_each_default_once_and_none_for_switches(script, capsys):
    with pytest.raises(SystemExit) as stop:
        importlib.import_module(script).main(["--help"])
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines anywhere
    flags = re.split(r"(?= --?[a-z][a-z-]*[ ,])", text.split("options:", 1)[1])
    assert len(flags) > 3
    for flag in flags:
        assert flag.count("default:") <= 1, flag
        assert "(default: None)" not in flag and "(default: False)" not in flag, flag


def test_a_flag_with_a_value_shows_its_default_and_a_switch_does_not():
    parser = arguments.ArgumentParser(prog="p")
    parser.add_argument("--steps", type=int, default=7, help="steps")
    parser.add_argument("--fast", action="store_true", help="go fast")
    parser.add_argument("--size", default=None, help="side (default: the model's own)")
    text = " ".join(parser.format_help().split())
    assert "steps (default: 7)" in text
    assert "go fast (default" not in text
    assert text.count("default:") == 2


def test_int_list_reads_numbers_and_ranges():
    assert arguments.int_list("0,3,7") == [0, 3, 7]
    assert arguments.int_list("2-4, 9") == [2, 3, 4, 9]
    with pytest.raises(argparse.ArgumentTypeError, match="0-15"):
        arguments.int_list("a-b")


@pytest.mark.parametrize("text", ["1,0", "0,inf", "nan,1", "0", "0,1,2"])
def test_number_range_refuses_what_is_not_low_high(text):
    with pytest.raises(argparse.ArgumentTypeError, match="LOW,HIGH"):
        arguments.number_range(text)


@pytest.mark.parametrize("parse, text", [(arguments.positive_int, "0"), (arguments.nonnegative_int, "-1"),
                                         (arguments.positive_float, "inf"), (arguments.fraction, "1.5"), (arguments.positive_int, "two")])
def test_ranged_types_refuse_out_of_range_and_unreadable(parse, text):
    with pytest.raises(argparse.ArgumentTypeError, match="must be"):
        parse(text)


def test_a_value_that_starts_with_a_minus_is_a_value_as_the_readme_writes_it():
    parser = arguments.ArgumentParser(prog="p")
    parser.add_argument("--input-range", type=arguments.number_range)
    parser.add_argument("--shift", type=arguments.int_pair)
    args = parser.parse_args(["--input-range", "-1,1", "--shift", "-2,0"])
    assert args.input_range == (-1.0, 1.0) and args.shift == (-2, 0)
    assert parser.parse_args(["--input-range=-0.5,0.5"]).input_range == (-0.5, 0.5)


def test_class_names_come_comma_separated_or_from_a_file(tmp_path):
    (tmp_path / "names.txt").write_text("cat\n\ndog\n")
    assert arguments.class_names(str(tmp_path / "names.txt")) == ["cat", "dog"]
    assert arguments.class_names("zero, one,two") == ["zero", "one", "two"]
    with pytest.raises(argparse.ArgumentTypeError):
        arguments.class_names("a,,b")
