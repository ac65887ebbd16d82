"""The public API, one call each, on a model in memory or any model the scripts take: what `import cnn_note as cn` gives.

Every function takes a keras.Model (Sequential or functional, a base network nested in a
fine-tuned one included), a model file, a keras.applications network by name, or a View; and
pictures as numpy arrays or tensors, pixels 0..1, (N, H, W, C) or (H, W, C) for one. It returns
numpy arrays, or small results that hold them, and writes no file. A refused input raises
cn.InputError (a ValueError) with the one line a script prints. Each keyword's default is the
scripts' (cnn_note/settings.py states it once for both).

May import: errors, settings, results, backend, io, core, optvis, attribution, dataset_examples, note, plots.
"""

from cnn_note.api.dreaming import deep_dream, dream_layers
from cnn_note.api.explaining import explain
from cnn_note.api.looking import class_pictures, feature_maps, filter_pictures
from cnn_note.api.plotting import plot
from cnn_note.api.reproducing import build_cnn, build_dnn, load_mnist, seed, train
from cnn_note.core.inputs import view_of
from cnn_note.note.transformer import build_vit  # its layers registered: a saved ViT opens once the API is loaded
from cnn_note.results import Dream, Explanation, Pictures

__all__ = ["Dream", "Explanation", "Pictures", "build_cnn", "build_dnn", "build_vit", "class_pictures", "deep_dream", "dream_layers",
           "explain", "feature_maps", "filter_pictures", "load_mnist", "plot", "seed", "train", "view_of"]
