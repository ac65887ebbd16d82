"""notebooks/tour.ipynb runs headless, cell by cell, on a small budget: no cell fails and every figure cell shows a picture."""

import os

import nbformat
import pytest
from conftest import ROOT
from nbclient import NotebookClient

TOUR = os.path.join(ROOT, "notebooks", "tour.ipynb")


@pytest.mark.slow
def test_the_tour_notebook_runs_and_draws_every_figure(mnist_path, monkeypatch):
    monkeypatch.setenv("CNN_NOTE_TOUR", "small")  # 1 epoch and 20 ascent steps instead of the note's 20 and 200
    monkeypatch.setenv("MNIST_PATH", mnist_path)
    monkeypatch.setenv("PYTHONPATH", ROOT)  # the checkout's package, as its first cell would install it
    notebook = nbformat.read(TOUR, as_version=4)
    # Cells the test adds (the committed notebook stays as it is): where the kernel's package lives, and the CNN's run.
    first = next(index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code" and "import cnn_note as cn" in cell.source)
    notebook.cells.insert(first + 1, nbformat.v4.new_code_cell(
        'import cnn_note as _checked\nprint("PACKAGE", _checked.__file__)\nprint("SETTINGS", EPOCHS, SAMPLES)'))
    trained = next(index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code" and "cnn = cn.build_cnn()" in cell.source)
    notebook.cells.insert(trained + 1, nbformat.v4.new_code_cell('print("CNN_TEST_ACC", repr(run.test_acc))'))
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
    # One number of the small run, the CNN's test accuracy, is what cn.train gives here with the same settings.
    import cnn_note as cn

    epochs, samples = map(int, said["SETTINGS"].split())
    assert (epochs, samples) == (1, 1000)
    cn.seed(0)
    run = cn.train(cn.build_cnn(), cn.load_mnist(mnist_path), epochs=epochs, train_samples=samples, progress=False)
    assert float(said["CNN_TEST_ACC"]) == run.test_acc


@pytest.mark.parametrize("readme", ["README.md", "README.zh-TW.md"])
def test_the_readmes_link_the_tour(readme):
    with open(os.path.join(ROOT, readme), encoding="utf-8") as handle:
        assert "(notebooks/tour.ipynb)" in handle.read()
