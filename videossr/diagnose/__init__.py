"""Does this data still teach this model? The zero-variance diagnostic and difficulty calibration.

* :func:`diagnose` (``videossr diagnose``): k answers per question, the histogram of correct
  answers (the paper's Figure 1), zero-variance shares under strict and smooth rewards, JSON + PNG.
* :func:`calibrate` (``videossr calibrate``): walk a task's difficulty ladder, probing the model
  on small seeded builds, until the mean smooth reward hits a target; write the recipe.
"""

from videossr.diagnose.ladders import LADDERS, Ladder, Rung, get_ladder
from videossr.diagnose.runner import Diagnosis, diagnose, diagnose_target
from videossr.diagnose.search import Probe, SearchResult, search
from videossr.diagnose.stats import Group, GroupStats, summarize

__all__ = ["LADDERS", "Diagnosis", "Group", "GroupStats", "Ladder", "Probe", "Rung", "SearchResult", "diagnose", "diagnose_target", "get_ladder", "search", "summarize"]
