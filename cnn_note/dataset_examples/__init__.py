"""Dataset examples: the real inputs that excite each unit most and least, cut to its receptive field.

Holds: fields (the receptive field of a unit, from the graph), sources (where the inputs come from: an array, a
folder of pictures, an .npz), scan (one pass over the inputs keeping each unit's running top and bottom, the crops),
ranking (the inputs for a choice of units, one ranked pass, examples attached to filter pictures, examples.npz).
May import: errors, settings, results, backend, io, core, optvis. The default inputs (MNIST's test digits) come from
the caller, which knows the note.
"""

from cnn_note.dataset_examples.fields import receptive_field
from cnn_note.dataset_examples.ranking import example_source, examples_arrays, ranked, with_examples
from cnn_note.dataset_examples.scan import MAX_BATCH, SHARD, batched, find, merged, responses, scan, whole_input
from cnn_note.dataset_examples.sources import Source, from_array, from_path
from cnn_note.results import Examples

__all__ = ["MAX_BATCH", "SHARD", "Examples", "Source", "batched", "find", "from_array", "from_path", "merged",
           "receptive_field", "responses", "scan", "whole_input", "example_source", "examples_arrays", "ranked", "with_examples"]
