"""Dataset examples: the real inputs that excite each unit most and least, cut to its receptive field.

Holds: scan (the receptive field, the running top and bottom over a stream of inputs, the sources
of inputs). May import: errors, settings, backend, io, core, optvis.objectives.
"""

from cnn_note.dataset_examples.scan import (
                                            MAX_BATCH,
                                            SHARD,
                                            Examples,
                                            Source,
                                            batched,
                                            find,
                                            fitting,
                                            from_array,
                                            from_path,
                                            merged,
                                            receptive_field,
                                            responses,
                                            scan,
                                            whole_input,
)

__all__ = ["MAX_BATCH", "SHARD", "Examples", "Source", "batched", "find", "fitting", "from_array", "from_path", "merged",
           "receptive_field", "responses", "scan", "whole_input"]
