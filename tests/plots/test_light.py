"""What draws and what the scripts parse flags with stays light: no TensorFlow behind plots, results, settings or flags."""

import subprocess
import sys

from conftest import ROOT


def test_plots_results_settings_and_flags_load_without_tensorflow():
    code = ("import sys, numpy as np, cnn_note.plots.plotting as plotting, cnn_note.results as results, cnn_note.settings, "
            "cnn_note.errors, cnn_note.cli.arguments; "
            "picture = np.zeros((8, 8, 1), 'float32'); plotting.plot(results.Dream(picture, picture, {'conv1': 1.0})); "
            "print(sorted(name for name in ('tensorflow', 'keras') if name in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
