"""Each default stated once: the scripts' flags are made from the settings dataclasses (default, help, choices, the rule
their values keep), the keywords of the Python API are those dataclasses, and what one refuses the other refuses."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from cnn_note import settings
from cnn_note.cli import arguments

# Each script and the settings its flags are made from.
SCRIPTS = {"visualize_filters": settings.PictureSettings, "atlas": settings.PictureSettings, "deep_dream": settings.DreamSettings,
           "train_cnn": settings.Recipe}


def flags(script: str) -> dict:
    """The script's flags by their option ("--step-size"), as its parser holds them."""
    module = importlib.import_module(f"cnn_note.cli.{'train' if script == 'train_cnn' else script}")  # train_cnn.py's are train.py's
    original, captured = arguments.ArgumentParser.parse_args, {}

    def keep(parser, argv=None, namespace=None):
        captured.update({option: action for action in parser._actions for option in action.option_strings})
        return original(parser, argv, namespace)

    arguments.ArgumentParser.parse_args = keep
    try:
        module.parse_args("cnn", []) if script == "train_cnn" else module.parse_args([])
    finally:
        arguments.ArgumentParser.parse_args = original
    return captured


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_each_flag_is_its_setting(script):
    found = flags(script)
    for item in dataclasses.fields(SCRIPTS[script]):
        flag = found["--" + item.name.replace("_", "-")]
        assert (flag.default, flag.help, flag.choices) == (item.default, item.metadata["help"], item.metadata.get("choices")), item.name


def test_jobs_has_one_default():
    from cnn_note.cli import train
    from cnn_note.note import training

    assert training.Config().jobs == settings.JOBS == train.parse_args("cnn", []).jobs


@pytest.mark.parametrize("kind, good, bad", [("positive", "3", ["0", "-1", "2.5", "x"]), ("nonnegative", "0", ["-1", "1.5"]),
                                             ("positive_number", "0.5", ["0", "-0.1", "nan", "inf"]),
                                             ("fraction", "1", ["1.01", "-0.01", "nan"])])
def test_a_flag_takes_what_the_keyword_takes(kind, good, bad):
    import argparse

    accept, requirement = settings.RULES[kind]
    parse = arguments.flag_type(kind)
    assert accept(parse(good))
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError, match=f"must be {requirement}"):
            parse(text)


def test_the_default_model_is_stated_once():
    for script in ("visualize_filters", "deep_dream", "explain", "atlas"):
        assert importlib.import_module(f"cnn_note.cli.{script}").parse_args([]).model == settings.MODEL == "results/cnn/model.keras"
