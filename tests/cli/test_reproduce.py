"""reproduce.py --quick end to end on the real MNIST, and why_cnn.py's clean failure."""

import json
import os
import re

import pytest
from conftest import assert_one_line_error, run_script


@pytest.mark.slow
def test_quick_reproduction_writes_a_report_whose_links_all_exist(mnist_path, tmp_path):
    done = run_script("reproduce.py", "--quick", "--results-dir", str(tmp_path), "--data", mnist_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    for stage in ("train_dnn", "train_cnn", "train_cnn_note_layout", "visualize_filters", "deep_dream", "why_cnn", "where_they_look"):
        assert f"=== {stage}: done in" in done.stdout
    report = (tmp_path / "REPORT.md").read_text()
    assert "| model | parameters | train acc | test acc (mean ± std)" in report
    assert "898,510" in report and "137,660" in report and "138,110" in report and "0.9661" in report
    for model in ("dnn", "cnn", "cnn_note_layout"):  # the measured figures, not only the note's
        measured = json.load(open(tmp_path / model / "metrics.json"))["test_acc"]
        assert f"| {measured['mean']:.4f} ± {measured['std']:.4f} |" in report, model
    assert "cnn_note_layout/pooling.png" in report
    links = re.findall(r"\]\(([^)]+)\)", report)
    assert len(links) >= 10
    for link in links:
        assert not link.startswith(("/", "http")) and os.path.isfile(tmp_path / link), link
    why = json.load(open(tmp_path / "why_cnn" / "why_cnn.json"))
    assert why["parameters"]["dnn"]["total"] == 898_510 and len(why["shift"]["cnn"]) == 5
    assert why["test_samples"] == 500
    look = json.load(open(tmp_path / "explain" / "look.json"))
    assert set(look["agreement"]["cnn"]) == {"gradient", "smoothgrad", "integrated_gradients", "gradcam", "occlusion", "lime"}
    assert "gradcam" not in look["agreement"]["dnn"] and "## Where do the DNN and the CNN look?" in report
    assert "explain/look.png" in links

    # Only one stage again: the others keep their results and the times of the run that made them.
    again = run_script("reproduce.py", "--quick", "--stages", "where_they_look", "--results-dir", str(tmp_path), "--data", mnist_path)
    assert again.returncode == 0, again.stderr
    assert "=== train_dnn" not in again.stdout and "=== where_they_look: done in" in again.stdout
    runs = json.load(open(tmp_path / "run.json"))
    assert len(runs) == 7 and runs["where_they_look"]["command"].endswith("--stages where_they_look --results-dir " + str(tmp_path)
                                                                            + " --data " + mnist_path)
    rebuilt = (tmp_path / "REPORT.md").read_text()
    assert rebuilt.split("## Where do the DNN")[0].split("\n", 3)[3] == report.split("## Where do the DNN")[0].split("\n", 3)[3]
    assert "| train_dnn |" in rebuilt and "the Run table says which stage came from which" in rebuilt


@pytest.mark.slow
def test_why_cnn_without_trained_models_says_what_to_run(tmp_path):
    done = run_script("why_cnn.py", "--results-dir", str(tmp_path))
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "no trained model", "python train_dnn.py", "--train")
    assert "--model" not in done.stderr  # why_cnn.py has no such flag
    assert list(tmp_path.iterdir()) == []  # refused: no empty why_cnn/ left behind


def test_without_data_nothing_runs_and_nothing_is_touched(tmp_path):
    (tmp_path / "REPORT.md").write_text("the last good report")
    done = run_script("reproduce.py", "--quick", "--results-dir", str(tmp_path), "--data", str(tmp_path / "missing.npz"))
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "not found", "--data")
    assert "===" not in done.stdout and os.listdir(tmp_path) == ["REPORT.md"]
    assert (tmp_path / "REPORT.md").read_text() == "the last good report"


@pytest.mark.slow
def test_a_failing_stage_is_reported_and_the_others_still_run(mnist_path, tmp_path):
    # A file where results/cnn/ should be: the CNN cannot be trained, so the stages that load it fail cleanly too.
    (tmp_path / "cnn").write_text("in the way")
    done = run_script("reproduce.py", "--quick", "--results-dir", str(tmp_path), "--data", mnist_path)
    assert done.returncode == 2
    assert "=== train_dnn: done" in done.stdout and "=== train_cnn: FAILED" in done.stdout and "=== why_cnn: FAILED" in done.stdout
    assert "Traceback" not in done.stderr
    assert "Stages that failed: train_cnn, visualize_filters, deep_dream, why_cnn, where_they_look" in (tmp_path / "REPORT.md").read_text()


def test_an_unknown_stage_is_one_line(tmp_path):
    done = run_script("reproduce.py", "--stages", "train_cnn,explain", "--results-dir", str(tmp_path))
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "unknown stage 'explain'", "where_they_look")
    assert os.listdir(tmp_path) == []


def test_where_they_look_names_each_model_and_says_why_a_method_has_no_value(tmp_path, monkeypatch, capsys):
    import numpy as np

    from cnn_note.cli import explain, reproduce

    methods = ("gradient", "smoothgrad", "integrated_gradients", "gradcam", "occlusion", "lime")
    digits = np.random.default_rng(0).random((10, 28, 28, 1)).astype("float32")

    def explained(argv: list[str]) -> dict:
        """explain.main's arrays without a model: each map of a shifted digit is the digit's map moved 2 pixels right, by
        padding here (so every agreement is 1); the DNN has no Grad-CAM, as explain.py leaves it out for a DNN."""
        model = argv[argv.index("--model") + 1]
        print(f"EXPLAINED {model}{' shifted' if '--shift' in argv else ''}")
        os.makedirs(argv[argv.index("--out-dir") + 1], exist_ok=True)
        maps = np.random.default_rng(len(model)).random((10, 28, 28))
        if "--shift" in argv:
            maps = np.pad(maps, ((0, 0), (0, 0), (2, 0)))[:, :, :28]
        labels = np.arange(10)
        return {"attributions.npz": {"images": digits, "classes": labels, "predicted": labels,
                                     **{m: maps for m in methods if m != "gradcam" or "dnn" not in model}}}

    monkeypatch.setattr(explain, "main", explained)
    reproduce.where_they_look(["--stages", "where_they_look", "--results-dir", str(tmp_path), "--quick"])
    lines = capsys.readouterr().out.splitlines()
    # Before each model's explain.py run (which calls it model.keras, whichever it is), a line says which network it is.
    runs = [(lines[index - 1], line.split()[1:]) for index, line in enumerate(lines) if line.startswith("EXPLAINED")]
    assert [said for _, said in runs] == [[os.path.join(str(tmp_path), model, "model.keras"), *shifted]
                                          for model in ("cnn", "dnn") for shifted in ([], ["shifted"])]
    for before, (path, *shifted) in runs:
        network = path.split(os.sep)[-2].upper()
        assert before == f"the {network} ({path}), digits {'shifted 2 pixels right' if shifted else 'as they are'}:"
    assert "  gradient: CNN 1.00, DNN 1.00" in lines and "  lime: CNN 1.00, DNN 1.00" in lines
    assert "  gradcam: CNN 1.00, DNN (no 4-D layer)" in lines  # Grad-CAM could not run on the DNN: said, not "nan"
    assert not [line for line in lines if "nan" in line.split()]


def test_report_shows_where_they_look_as_the_committed_report_does():
    from conftest import committed

    from cnn_note.note import reporting

    # As committed: a user's own reproduce.py rewrites both with its own numbers.
    look = json.loads(committed("results/explain/look.json"))
    section = reporting.where_they_look(look, lambda path, alt: f"![{alt}]({path})")
    report = committed("results/REPORT.md").decode("utf-8").splitlines()
    table = [line for line in "\n".join(section).splitlines() if line.startswith("| ")]
    assert len(table) == 2 + 6 and "| gradcam | 0.85 | (no 4-D layer) |" in table
    for line in table:
        assert line in report, line
