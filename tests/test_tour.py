"""notebooks/tour.ipynb runs headless, cell by cell, on a small budget: no cell fails and every figure cell shows a picture."""

import os

import nbformat
import numpy as np
import pytest
from conftest import ROOT
from nbclient import NotebookClient

TOUR = os.path.join(ROOT, "notebooks", "tour.ipynb")


@pytest.mark.slow
def test_the_tour_notebook_runs_and_draws_every_figure(mnist_path, monkeypatch, tmp_path):
    monkeypatch.setenv("CNN_NOTE_TOUR", "small")  # 1 epoch and 20 ascent steps instead of the note's 20 and 200
    monkeypatch.setenv("MNIST_PATH", mnist_path)
    monkeypatch.setenv("PYTHONPATH", ROOT)  # the checkout's package, as its first cell would install it
    notebook = nbformat.read(TOUR, as_version=4)
    # Cells the test adds (the committed notebook stays as it is): where the kernel's package lives, and the CNN's run.
    first = next(index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code" and "import cnn_note as cn" in cell.source)
    notebook.cells.insert(first + 1, nbformat.v4.new_code_cell(
        'import cnn_note as _checked\nprint("PACKAGE", _checked.__file__)\nprint("SETTINGS", EPOCHS, SAMPLES)'))
    trained = next(index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code" and "cnn = cn.build_cnn()" in cell.source)
    saved = tmp_path / "tour_cnn.keras"
    notebook.cells.insert(trained + 1, nbformat.v4.new_code_cell(f'print("CNN_TEST_ACC", repr(run.test_acc))\ncnn.save({str(saved)!r})'))
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": os.path.dirname(TOUR)}}).execute()
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert not [output for cell in cells for output in cell.outputs if output.output_type == "error"]
    drawing = [cell for cell in cells if "cn.plot(" in cell.source]
    assert len(drawing) >= 8
    for cell in drawing:
        assert any("image/png" in output.get("data", {}) for output in cell.outputs), cell.source
    printed = "".join(output.get("text", "") for cell in cells for output in cell.outputs)
    assert "DNN: Train Acc" in printed and "CNN: Train Acc" in printed and "cn.InputError: unknown layer conv9" in printed
    said = dict(line.split(" ", 1) for line in printed.splitlines() if line.startswith(("PACKAGE ", "SETTINGS ", "CNN_TEST_ACC ")))
    # The kernel imported this checkout's package, not an installed copy of another (the slip of an earlier commit).
    package = os.path.realpath(said["PACKAGE"])
    assert package == os.path.realpath(os.path.join(ROOT, "cnn_note", "__init__.py")), package
    epochs, samples = map(int, said["SETTINGS"].split())
    assert (epochs, samples) == (1, 1000)
    # The CNN's test accuracy the tour prints is the trained model's own on the 10,000 test digits: its predictions,
    # from the model the notebook trained, against the labels, read here from the MNIST file with numpy.
    from cnn_note.backend import keras

    with np.load(mnist_path) as mnist:
        digits, labels = mnist["x_test"][..., None].astype("float32") / 255, mnist["y_test"]
    predicted = keras.models.load_model(saved).predict(digits, batch_size=1000, verbose=0).argmax(axis=1)
    accuracy = float(np.mean(predicted == labels))
    assert len(labels) == 10_000 and accuracy > 0.5  # one epoch of 1,000 digits learns well above chance (0.1)
    assert abs(float(said["CNN_TEST_ACC"]) - accuracy) <= 1e-4 + 1e-6  # a digit's call may flip with the batch's rounding


@pytest.mark.parametrize("readme", ["README.md", "README.zh-TW.md"])
def test_the_readmes_link_the_tour(readme):
    with open(os.path.join(ROOT, readme), encoding="utf-8") as handle:
        assert "(notebooks/tour.ipynb)" in handle.read()


def test_the_committed_tours_numbers_are_the_scripts_seed_0():
    """The tour says cn.seed(0) gives the numbers python train_dnn.py and train_cnn.py print, and is committed with its
    outputs: those outputs must be the README's seed-0 lines (they once showed 0.9802 where the script prints 0.9798)."""
    import re

    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    notebook = nbformat.read(TOUR, as_version=4)
    printed = "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs)
    assert "the note's recipe" in printed  # committed as run with the note's recipe, not the tests' small budget
    for model in ("dnn", "cnn"):
        row = next(line for line in readme.splitlines() if line.startswith(f"| `python train_{model}.py` |"))
        train, test = re.search(r"`Train Acc: (\d\.\d{4})`, `Test Acc: (\d\.\d{4})` \(seed 0\)", row).groups()
        assert f"{model.upper()}: Train Acc {train}, Test Acc {test}" in printed, (model, train, test)
