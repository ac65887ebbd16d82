"""cn.InputError speaks each caller's language: keywords to the Python API, flags to the scripts, from one raise."""

import numpy as np
import pytest
from conftest import run_script

import cnn_note as cn
from cnn_note.errors import Argument, InputError
from cnn_note.io import writing


def test_an_argument_is_a_keyword_in_python_and_a_flag_on_the_command_line():
    error = InputError(Argument("examples_from", "photos/"), " not found: give a folder")
    assert str(error) == "examples_from='photos/' not found: give a folder"
    assert error.on_command_line() == "--examples-from photos/ not found: give a folder"
    named = InputError("choose another ", Argument("step_size"), "; or ", Argument("layers", "a=1", quoted=True))
    assert str(named) == "choose another step_size; or layers='a=1'"
    assert named.on_command_line() == "choose another --step-size; or --layers 'a=1'"
    worded = InputError(Argument("head", python="head='logits'", flag="--head logits"))
    assert (str(worded), worded.on_command_line()) == ("head='logits'", "--head logits")
    assert isinstance(error, ValueError) and error.parts[1] == " not found: give a folder"


def test_the_api_names_its_keywords_and_the_script_its_flags(tmp_path):
    model = cn.build_cnn()
    digit = np.zeros((28, 28, 1), "float32")
    with pytest.raises(cn.InputError) as error:
        cn.explain(model, digit, methods=[], progress=False)
    assert str(error.value).startswith("methods=[] is empty: name at least one of gradient,")
    with pytest.raises(cn.InputError, match=r"^size=3 is too small for conv2: use at least \d+$"):
        cn.filter_pictures(model, "conv2", [0], size=3, progress=False)
    path = tmp_path / "cnn.keras"
    model.save(path)
    picture = tmp_path / "digit.png"
    writing.save_image(str(picture), digit)
    done = run_script("explain.py", "--model", str(path), "--image", str(picture), "--methods", ",")
    assert done.returncode == 2
    assert done.stderr.startswith("explain.py: error: --methods is empty: name at least one of gradient,")
