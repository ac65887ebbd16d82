"""notebooks/tour.ipynb runs headless, cell by cell, on a small budget: no cell fails and every figure cell shows a picture."""

import os

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT

TOUR = os.path.join(ROOT, "notebooks", "tour.ipynb")


def test_the_tour_notebook_runs_and_draws_every_figure(mnist_path, monkeypatch):
    monkeypatch.setenv("CNN_NOTE_TOUR", "small")  # 1 epoch and 20 ascent steps instead of the note's 20 and 200
    monkeypatch.setenv("MNIST_PATH", mnist_path)
    monkeypatch.setenv("PYTHONPATH", ROOT)  # the checkout's package, as its first cell would install it
    notebook = nbformat.read(TOUR, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": os.path.dirname(TOUR)}}).execute()
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert not [output for cell in cells for output in cell.outputs if output.output_type == "error"]
    drawing = [cell for cell in cells if "cn.plot(" in cell.source]
    assert len(drawing) >= 8
    for cell in drawing:
        assert any("image/png" in output.get("data", {}) for output in cell.outputs), cell.source
    printed = "".join(output.get("text", "") for cell in cells for output in cell.outputs)
    assert "DNN: Train Acc" in printed and "CNN: Train Acc" in printed and "cn.InputError: unknown layer conv9" in printed


@pytest.mark.parametrize("readme", ["README.md", "README.zh-TW.md"])
def test_the_readmes_link_the_tour(readme):
    with open(os.path.join(ROOT, readme), encoding="utf-8") as handle:
        assert "(notebooks/tour.ipynb)" in handle.read()
