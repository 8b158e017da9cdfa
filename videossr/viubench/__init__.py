"""VIUBench, the paper's intrinsic video understanding benchmark, as a versioned artifact.

``videossr viubench build`` makes a benchmark folder from any videos (9 subsets over the
VIUBench recipe), ``baseline`` writes model-free predictions, ``score`` scores predictions in
the paper's layout beside the published rows, ``export-lmms-eval`` writes an lmms-eval task
folder. Library entry points:

>>> from videossr.viubench import BENCH_VERSION, SUBSETS, load_items, score_item  # doctest: +SKIP
>>> items = load_items("BENCH"); score_item(items[0], "3,1,4")                    # doctest: +SKIP

Importing this package is light (no numpy, torch or video decoding); the build, baselines,
plot and lmms-eval export import what they need when called.
"""

from videossr.viubench.items import BENCH_FILE, ITEMS_FILE, Clip, Item, load_bench, load_items, read_bench_meta
from videossr.viubench.scorer import Report, SubsetScore, item_result, read_predictions, score_item, score_predictions, score_report
from videossr.viubench.subsets import ABILITIES, BENCH_VERSION, SUBSET_INFO, SUBSETS, TASKS, Subset, subset

__all__ = [
    "ABILITIES", "BENCH_FILE", "BENCH_VERSION", "ITEMS_FILE", "SUBSETS", "SUBSET_INFO", "TASKS",
    "Clip", "Item", "Report", "Subset", "SubsetScore",
    "item_result", "load_bench", "load_items", "read_bench_meta", "read_predictions", "score_item", "score_predictions", "score_report", "subset",
]
