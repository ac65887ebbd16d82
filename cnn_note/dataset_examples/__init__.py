"""Dataset examples: the real inputs that excite each unit most and least, cut to its receptive field.

Holds: scan (the receptive field, the running top and bottom over a stream of inputs, the sources
of inputs), ranking (where the inputs come from, one ranked pass for a choice of units, examples attached to
filter pictures). May import: errors, settings, results, backend, io, note.data (MNIST, the default inputs),
core, optvis.
"""

from cnn_note.dataset_examples.ranking import example_source, examples_arrays, ranked, with_examples
from cnn_note.dataset_examples.scan import (
                                            MAX_BATCH,
                                            SHARD,
                                            Examples,
                                            Source,
                                            batched,
                                            find,
                                            from_array,
                                            from_path,
                                            merged,
                                            receptive_field,
                                            responses,
                                            scan,
                                            whole_input,
)

__all__ = ["MAX_BATCH", "SHARD", "Examples", "Source", "batched", "find", "from_array", "from_path", "merged",
           "receptive_field", "responses", "scan", "whole_input", "example_source", "examples_arrays", "ranked", "with_examples"]
