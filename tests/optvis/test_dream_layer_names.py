"""deep_dream's layers and weights name any layer: by its name as --list-layers shows it, or as a dict's key in Python."""

import pytest
from layer_names import ODD, cnn

from cnn_note import api
from cnn_note.core.views import View
from cnn_note.errors import InputError
from cnn_note.optvis import dream

FIRST, SECOND = ODD["conv_a"], ODD["conv_b"]  # one holds "=" and "<", the other "," "=" quotes and non-ASCII


@pytest.fixture(scope="module")
def view() -> View:
    return View.of(cnn(ODD))


def test_the_default_layers_are_taken_whatever_their_names(view):
    assert api.dream_layers(view, None) == {FIRST: 1.0, SECOND: 2.0}
    assert api.dream_layers(view, dream.default_weights(view)) == {FIRST: 1.0, SECOND: 2.0}  # the default passed back, as the script does


def test_a_dict_names_layers_as_they_are(view):
    assert api.dream_layers(view, {SECOND: 0.5, ODD["pool_a"]: 3}) == {SECOND: 0.5, ODD["pool_a"]: 3.0}
    with pytest.raises(InputError, match="unknown layer nope=1"):
        api.dream_layers(view, {"nope=1": 1.0})


def test_text_splits_at_a_layers_own_commas_and_equals_signs_never(view):
    assert dream.parse_layers(f"{FIRST}=2,{SECOND}=3", view) == {FIRST: 2.0, SECOND: 3.0}
    assert dream.parse_layers(f"{SECOND},{FIRST}", view) == {SECOND: 1.0, FIRST: 1.0}  # weights left out: 1
    assert dream.parse_layers(f"{ODD['norm_a']}=0.5 ,{ODD['drop_b']}", view) == {ODD["norm_a"]: 0.5, ODD["drop_b"]: 1.0}
    assert dream.parse_layers(f" {ODD['pool_a']} = 4", view) == {ODD["pool_a"]: 4.0}  # spaces around, as for any name


def test_odd_text_is_still_one_line(view):
    with pytest.raises(InputError, match=f"weight 'x' of {FIRST} is not a number"):
        dream.parse_layers(f"{FIRST}=x", view)
    with pytest.raises(InputError, match="names .* twice"):
        dream.parse_layers(f"{FIRST}=1,{FIRST}=2", view)
    with pytest.raises(InputError, match="unknown layer b: "):
        dream.parse_layers('b, "q"=1', view)  # the start of a name is no name: split as plain text is
    with pytest.raises(InputError, match=r"layer scores=10 has output \(None, 10\)"):
        dream.parse_layers("scores=10=1", view)
