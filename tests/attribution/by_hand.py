"""For the attribution tests: small models whose maps have known answers, and methods written out by hand (numpy, a
loop, or the lime package called as its tutorial does) to hold the package's methods to."""

import numpy as np

from cnn_note.backend import keras


def linear_model(height=6, width=5, channels=1, classes=3):
    """Scores w.x + b per class, then softmax: every gradient method has a known answer."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((height, width, channels))
    scores = keras.layers.Dense(classes, name="scores")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, keras.layers.Softmax()(scores))


def square_model(height=6, width=5, channels=1, classes=3):
    """Scores w.(x * x) + b per class, then softmax: the gradient, 2 w x, changes with the picture."""
    keras.utils.set_random_seed(2)
    inputs = keras.Input((height, width, channels))
    squared = keras.layers.Multiply()([inputs, inputs])
    scores = keras.layers.Dense(classes, name="scores")(keras.layers.Flatten()(squared))
    return keras.Model(inputs, keras.layers.Softmax()(scores))


def weights_of(model, cls):
    kernel = model.get_layer("scores").kernel.numpy()[:, cls]
    return kernel.reshape(model.input_shape[1:])


def images(count, height=6, width=5, channels=1, seed=0):
    return np.random.default_rng(seed).random((count, height, width, channels)).astype("float32")


def bilinear_by_hand(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """Maps (N, h, w) enlarged to height x width by bilinear interpolation between pixel centres, edges held: numpy."""
    def weights(out: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        where = np.clip((np.arange(out) + 0.5) * size / out - 0.5, 0, size - 1)
        low = np.floor(where).astype(int)
        return low, np.minimum(low + 1, size - 1), where - low

    top, bottom, down = weights(height, maps.shape[1])
    left, right, across = weights(width, maps.shape[2])
    rows = maps[:, top] * (1 - down)[:, None] + maps[:, bottom] * down[:, None]
    return rows[:, :, left] * (1 - across) + rows[:, :, right] * across


def occlusion_by_hand(model, image: np.ndarray, cls: int, patch: int, stride: int) -> np.ndarray:
    """One picture's occlusion map with a loop: each black patch's drop in the probability, averaged over the patches
    that cover a pixel; the last patch of a row or column flush with the edge."""
    height, width = image.shape[:2]
    tops = sorted({*range(0, height - patch + 1, stride), height - patch})
    lefts = sorted({*range(0, width - patch + 1, stride), width - patch})
    spots = [(top, left) for top in tops for left in lefts]
    hidden = np.repeat(image[None], len(spots), axis=0)
    for copy, (top, left) in zip(hidden, spots):
        copy[top:top + patch, left:left + patch] = 0.0
    before = float(model(image[None], training=False)[0, cls])
    after = np.asarray(model(hidden, training=False))[:, cls]
    drops, covered = np.zeros((height, width)), np.zeros((height, width))
    for drop, (top, left) in zip(before - after, spots):
        drops[top:top + patch, left:left + patch] += drop
        covered[top:top + patch, left:left + patch] += 1
    return drops / covered


def lime_by_hand(model, x: np.ndarray, classes: np.ndarray, samples: int) -> np.ndarray:
    """LIME's map of each grey picture by the lime package as its MNIST tutorial calls it (quickshift kernel 1, max_dist
    200, ratio 0.2; grey repeated to RGB, seed 0): each superpixel's weight for the class, spread over its pixels."""
    from lime import lime_image
    from lime.wrappers.scikit_image import SegmentationAlgorithm

    maps = []
    for image, cls in zip(x, classes):
        found = lime_image.LimeImageExplainer(random_state=0).explain_instance(
            np.repeat(image, 3, axis=-1).astype("float64"), lambda batch: np.asarray(model(batch[..., :1].astype("float32"))),
            labels=(int(cls),), top_labels=None, num_samples=samples, batch_size=100, random_seed=0,
            segmentation_fn=SegmentationAlgorithm("quickshift", kernel_size=1, max_dist=200, ratio=0.2, random_seed=0))
        weight = dict(found.local_exp[int(cls)])
        maps.append(np.vectorize(lambda segment, weight=weight: weight.get(segment, 0.0))(found.segments))
    return np.stack(maps)
