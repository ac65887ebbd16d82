"""Names read from files the tools did not write: ImageNet's class names, from Keras's own cache."""

from __future__ import annotations

import json
import os


def imagenet_class_names() -> list[str] | None:
    """ImageNet's 1,000 class names when Keras has them cached (it never downloads them here), else None."""
    cached = os.path.join(os.environ.get("KERAS_HOME", os.path.expanduser(os.path.join("~", ".keras"))),
                          "models", "imagenet_class_index.json")
    try:
        with open(cached, encoding="utf-8") as handle:
            index = json.load(handle)
        return [index[str(k)][1] for k in range(1000)]
    except (OSError, ValueError, KeyError):
        return None
