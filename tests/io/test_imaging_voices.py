"""A picture that is not there is refused in the words of whoever named it: image in Python, --image from a script."""

import pytest

from cnn_note.errors import InputError
from cnn_note.io import imaging


def test_a_missing_picture_is_named_as_each_voice_names_it(tmp_path):
    path = str(tmp_path / "nope.png")
    with pytest.raises(InputError) as refused:
        imaging.open_image(path)
    assert str(refused.value) == f"image not found: {path} (check the path given to image)"
    assert refused.value.on_command_line() == f"image not found: {path} (check the path given to --image)"
