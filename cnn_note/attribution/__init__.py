"""Attribution: why a model decided, as a map over the input per method, and how faithful each map is.

Holds: methods (the six methods run by name: explain), gradients (gradient, SmoothGrad, Integrated
Gradients, Grad-CAM), perturbation (occlusion, LIME), choice (which methods run), faithfulness
(deletion curves, the randomisation check). May import: errors, settings, results (Explanation), backend, io, core,
optvis.objectives.
"""

from cnn_note.attribution.gradients import Gradients, baseline, gradcam, gradcam_layer, gradient, integrated_gradients
from cnn_note.attribution.methods import METHODS, ExplainSettings, explain
from cnn_note.attribution.perturbation import Probabilities, occlusion, positions
from cnn_note.results import SIGNED

__all__ = ["METHODS", "SIGNED", "Gradients", "Probabilities", "ExplainSettings", "baseline", "explain", "gradcam", "gradcam_layer",
           "gradient", "integrated_gradients", "occlusion", "positions"]
