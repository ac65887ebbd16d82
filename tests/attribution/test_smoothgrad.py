"""SmoothGrad against numpy: the gradient 2 w x of a squared score, at noisy copies drawn as documented."""

import numpy as np
from by_hand import images, square_model, weights_of

from cnn_note.attribution import ExplainSettings
from cnn_note.attribution.smoothgrad import SmoothGrad
from cnn_note.core.views import View


def smoothgrad_by_hand(model, x, classes, samples, noise, seed):
    """The mean over `samples` copies of |2 w (x + sigma e)|, the largest over channels; sigma a share `noise` of each
    picture's range, e drawn from one generator seeded `seed`, picture by picture, copy by copy."""
    rng = np.random.default_rng(seed)
    sigma = noise * (x.max(axis=(1, 2, 3)) - x.min(axis=(1, 2, 3)))
    maps = []
    for image, cls, spread in zip(x, classes, sigma):
        copies = [image + spread * rng.standard_normal(image.shape) for _ in range(samples)]
        maps.append(np.mean([np.abs(2 * weights_of(model, cls) * copy).max(axis=-1) for copy in copies], axis=0))
    return np.stack(maps)


def test_smoothgrad_of_a_squared_score_is_the_mean_gradient_magnitude_over_the_noisy_copies():
    model = square_model(channels=3)
    x, classes = images(3, channels=3, seed=5), np.array([1, 0, 2])
    x[1] *= 0.2  # a picture of a smaller range gets smaller noise
    settings = ExplainSettings(samples=7, noise=0.3, seed=3)
    maps = SmoothGrad().attribute(View.of(model, maps=False), x, classes, settings)
    np.testing.assert_allclose(maps, smoothgrad_by_hand(model, x, classes, 7, 0.3, 3), rtol=1e-4, atol=1e-6)
