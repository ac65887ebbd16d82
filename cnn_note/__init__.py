"""The ML2020 CNN note in tf.keras, as a library: `import cnn_note as cn`.

    cn.explain(model, images)            why the model decided: six attribution methods, maps as arrays
    cn.filter_pictures(model, "conv2")   what each filter looks for, by gradient ascent
    cn.class_pictures(model)             what the model thinks each class looks like
    cn.deep_dream(model, image)          amplify what the layers already see
    cn.feature_maps(model, image)        each layer's output for a picture
    cn.build_dnn(), cn.build_cnn(), cn.load_mnist(), cn.seed(0), cn.train(model, mnist)   the note's comparison
    cn.build_vit()                       a small vision transformer of the digits, every layer of it live in the browser
    cn.plot(result)                      any result as the scripts draw it (inline in Jupyter)
    cn.atlas(model, out)                 a browsable web site of every unit of every conv layer

A refused input raises cn.InputError (a ValueError) with one line saying what is wrong and what to do.
TensorFlow loads on the first use of a function, not on import.
"""

from cnn_note.errors import InputError

__version__ = "1.0.0"

_API = ("explain", "filter_pictures", "class_pictures", "deep_dream", "dream_layers", "feature_maps", "build_dnn", "build_cnn",
        "build_vit", "load_mnist", "seed", "train", "plot", "view_of", "atlas", "Explanation", "Pictures", "Dream")
__all__ = ["InputError", "__version__", *_API]


def __getattr__(name: str):
    # The API imports TensorFlow; the scripts import this package for their flags alone, which must stay instant.
    if name == "atlas":  # its module builds on the API (and is not called atlas: cn.atlas is the function)
        from cnn_note.network_atlas.make import atlas

        return atlas
    if name in _API:
        from cnn_note import api

        return getattr(api, name)
    raise AttributeError(f"module 'cnn_note' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
