"""Attribution: why a model decided, as a map over the input per method, and how faithful each map is.

Holds: method (what a method is: a class with its name, whether its maps are signed, what it needs of the model,
its own settings), a module per method (gradient, smoothgrad, integrated_gradients, gradcam, occlusion, lime),
methods (METHODS, the registry every reader reads, and explain, which runs those asked), the machinery the
methods share (gradients: batched gradients and the baseline; perturbation: batched probabilities, work on a
smaller copy), choice (which methods run), faithfulness (deletion curves, the randomisation check). Importing it
loads no TensorFlow: the machinery loads when first used. May import: errors, settings, results (Explanation),
backend, io, core, optvis.objectives.
"""

from cnn_note.attribution import methods
from cnn_note.attribution.gradcam import gradcam_layer
from cnn_note.attribution.method import Method
from cnn_note.attribution.methods import METHODS, explain
from cnn_note.attribution.occlusion import positions

__all__ = ["METHODS", "SIGNED", "ExplainSettings", "Gradients", "Method", "Probabilities", "baseline", "explain", "gradcam_layer",
           "positions"]


def __getattr__(name: str):
    # SIGNED and ExplainSettings are read from the registry as it stands, so that a method added to METHODS (as a test
    # does) is flagged, drawn and accepted like the others. The machinery imports TensorFlow: it loads on first use.
    if name == "SIGNED":
        return methods.signed()
    if name == "ExplainSettings":
        return methods.explain_settings()
    if name in ("Gradients", "baseline"):
        from cnn_note.attribution import gradients

        return getattr(gradients, name)
    if name == "Probabilities":
        from cnn_note.attribution.perturbation import Probabilities

        return Probabilities
    raise AttributeError(f"module 'cnn_note.attribution' has no attribute {name!r}")
