"""Attribution: why a model decided, as a map over the input per method, and how faithful each map is.

Holds: methods (gradient, SmoothGrad, Integrated Gradients, Grad-CAM, occlusion, LIME), faithfulness
(deletion curves, the randomisation check). May import: errors, settings, backend, io, core, optvis.objectives.
"""

from cnn_note.attribution.methods import (
                                          METHODS,
                                          SIGNED,
                                          ExplainSettings,
                                          Gradients,
                                          Probabilities,
                                          baseline,
                                          explain,
                                          gradcam,
                                          gradcam_layer,
                                          gradient,
                                          integrated_gradients,
                                          occlusion,
                                          positions,
                                          shift_agreement,
)

__all__ = ["METHODS", "SIGNED", "Gradients", "Probabilities", "ExplainSettings", "baseline", "explain", "gradcam", "gradcam_layer",
           "gradient", "integrated_gradients", "occlusion", "positions", "shift_agreement"]
