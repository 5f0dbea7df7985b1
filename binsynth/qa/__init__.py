"""Hierarchical spatial question answering about a scene, from its metadata alone.

Three levels, as in the binaural spatial-QA corpora behind "The World is Not Mono"
(arXiv 2601.02954) and BAT / SpatialSoundQA (arXiv 2402.01591): 1 perception (what, how
many, where, how far, what room), 2 integration (relations between sources, binding of
identity to direction, distance and time), 3 reasoning (head turns, a source stopping,
walking toward a source, compound conditions). :func:`describe_tasks` gives the table of
tasks with their definitions and thresholds; :mod:`binsynth.qa.facts` defines them. Imports only
the root helpers: it reads a scene record's fields and names its type in type hints alone (the
scene sampler imports qa, not the reverse).

>>> rows = generate_qa(scene, numpy.random.default_rng([seed, index]), n_questions=4)  # doctest: +SKIP
>>> normalize_answer("direction_sector", "to the left, in front")
'front-left'
"""

from binsynth.qa.answers import (
    DEFAULT_TOLERANCE_DEG, DEFAULT_TOLERANCE_M, LETTERS, answer_error, answer_matches, format_mc, normalize_answer, resolve_choice,
)
from binsynth.qa.generate import FORMS, QAItem, generate_items, generate_qa
from binsynth.qa.taxonomy import LEVEL_NAMES, TASKS, TaskInfo, describe_tasks

__all__ = [
    "TASKS", "TaskInfo", "LEVEL_NAMES", "FORMS", "LETTERS", "DEFAULT_TOLERANCE_DEG", "DEFAULT_TOLERANCE_M",
    "QAItem", "generate_qa", "generate_items", "normalize_answer", "answer_matches", "answer_error", "resolve_choice",
    "format_mc", "describe_tasks",
]
