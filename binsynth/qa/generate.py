"""Sampling questions for a scene: task choice, answer balance, phrasing, form, distractors.

For each question the sampler draws a task (weights ∝ ``tasks``), then — among that task's
remaining unambiguous instances — first an answer uniformly among the distinct answers and
then an instance with that answer. Drawing the answer first balances yes/no, left/right and
the like, so a model cannot win by always giving the majority answer. A phrasing is drawn
from :data:`~binsynth.qa.templates.TEMPLATES`, then the form: ``open`` (``choices`` empty,
``answer_index`` -1), ``mc4`` (four distinct options, exactly one correct — distractors
drawn tier by tier, most plausible first, each one not matching the answer nor another
distractor under :func:`~binsynth.qa.answers.answer_matches` — then shuffled), or
``mixed`` (mc4 with probability ½ for tasks that have four natural options, else open).
Form ``mc4`` only draws tasks with four natural options. An instance once asked (or any
instance with the same key) is not asked again; a task with nothing left drops out, so a
scene may get fewer than ``n_questions`` questions, never an ambiguous or repeated one.
Every draw comes from the ``rng`` given, so equal generator states give equal questions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from binsynth.errors import ConfigError
from binsynth.qa import motion as M, reasoning, tasks as T
from binsynth.qa.answers import answer_matches, normalize_answer
from binsynth.qa.facts import Facts
from binsynth.qa.taxonomy import MOTION_TASKS, TASKS
from binsynth.qa.templates import TEMPLATES, fill

if TYPE_CHECKING:  # qa reads a scene's fields; the scene sampler imports qa
    from binsynth.scene.record import SceneSpec

FORMS = ("open", "mc4", "mixed")

GENERATORS = {
    "presence": T.presence, "count": T.count, "sound_class": T.sound_class, "side": T.side, "direction_sector": T.direction_sector,
    "direction_degrees": T.direction_degrees, "elevation": T.elevation, "distance": T.distance,
    "near_far": T.near_far, "reverberation": T.reverberation, "room_size": T.room_size,
    "lateral_relation": T.lateral_relation, "front_back_relation": T.front_back_relation,
    "closer": T.closer, "extreme_lateral": T.extreme_lateral, "extreme_distance": T.extreme_distance,
    "source_at_sector": T.source_at_sector, "where_how_far": T.where_how_far,
    "temporal_order": T.temporal_order, "first_onset": T.first_onset, "overlap": T.overlap,
    "rotation": reasoning.rotation, "face_source": reasoning.face_source,
    "nearest_if_stopped": reasoning.nearest_if_stopped, "behind_when_facing": reasoning.behind_when_facing,
    "compound": reasoning.compound,
    "moving_or_still": M.moving_or_still, "motion_direction": M.motion_direction, "approach": M.approach,
    "path_sectors": M.path_sectors, "which_moves": M.which_moves, "nearer_at_end": M.nearer_at_end,
}

#: Tasks about where a source is: asked about still sources only when some source moves.
WHERE_TASKS = frozenset({"side", "direction_sector", "direction_degrees", "elevation", "distance", "near_far",
                         "where_how_far", "lateral_relation", "front_back_relation", "closer", "rotation", "face_source"})
#: Tasks that rank or scan every source's position: not asked when some source moves.
RANKING_TASKS = frozenset({"extreme_lateral", "extreme_distance", "source_at_sector", "nearest_if_stopped",
                           "behind_when_facing", "compound"})


def instances(name: str, facts: Facts) -> list[T.Instance]:
    """Every unambiguous instance of task ``name`` (moving sources kept out of where-questions)."""
    if facts.any_moving:
        if name in RANKING_TASKS:
            return []
        if name in WHERE_TASKS:
            return GENERATORS[name](facts.still())
    return GENERATORS[name](facts)


@dataclass
class QAItem:
    """One generated question; :meth:`to_row` gives the ``QA_TYPE`` struct of a shard row.

    ``params`` (not stored in rows) says what the question was about: ``sources`` (indices
    into ``scene.sources``), and per task ``variant``, ``turn_deg``, ``sector``, …"""

    level: int
    task: str
    question: str
    answer: str
    choices: list[str] = field(default_factory=list)
    answer_index: int = -1
    params: dict = field(default_factory=dict)

    def to_row(self) -> dict:
        return {"level": self.level, "task": self.task, "question": self.question, "answer": self.answer,
                "answer_norm": normalize_answer(self.task, self.answer),
                "choices": list(self.choices), "answer_index": self.answer_index}


def _weights(tasks: Mapping[str, float] | None, form: str, motion: bool = True) -> dict[str, float]:
    if form not in FORMS:
        raise ConfigError(f"qa form {form!r}: expected one of {', '.join(FORMS)}")
    if tasks is None:  # every task; the motion tasks only about scenes where something moves
        weights = {name: 1.0 for name in TASKS if motion or name not in MOTION_TASKS}
    else:
        unknown = sorted(set(tasks) - set(TASKS))
        if unknown:
            raise ConfigError(f"qa tasks: unknown {', '.join(map(repr, unknown))}; expected names from {', '.join(TASKS)}")
        weights = {}
        for name in TASKS:  # registry order, whatever order the caller used
            w = float(tasks.get(name, 0.0))
            if not np.isfinite(w) or w < 0:
                raise ConfigError(f"qa tasks.{name}: weight {tasks[name]!r}; expected a finite number ≥ 0")
            if w > 0:
                weights[name] = w
    if form == "mc4":
        weights = {n: w for n, w in weights.items() if TASKS[n].multiple_choice}
    return weights


def _distractors(task: str, inst: T.Instance, rng: np.random.Generator, k: int = 3) -> list[str] | None:
    """``k`` distractors drawn tier by tier from the instance's pool, or None if too few."""
    if inst.pool is None:
        return None
    chosen: list[str] = []
    seen = {normalize_answer(task, inst.answer)}
    for tier in inst.pool():
        for j in rng.permutation(len(tier)):
            c = tier[int(j)]
            norm = normalize_answer(task, c)
            if norm in seen or any(answer_matches(task, c, o) for o in [inst.answer, *chosen]):
                continue
            chosen.append(c)
            seen.add(norm)
            if len(chosen) == k:
                return chosen
    return None


def generate_items(scene: SceneSpec, rng: np.random.Generator, *, tasks: Mapping[str, float] | None = None,
                   n_questions: int = 4, form: str = "mixed", vocabulary: Sequence[str] | None = None,
                   trajectories: Sequence | None = None) -> list[QAItem]:
    """Questions about ``scene`` with their ``params`` (see :func:`generate_qa`)."""
    if int(n_questions) != n_questions or n_questions < 0:
        raise ConfigError(f"qa n_questions: {n_questions!r}; expected an integer ≥ 0")
    facts = Facts(scene, vocabulary, trajectories)
    weights = _weights(tasks, form, facts.any_moving)
    remaining: dict[str, list[T.Instance]] = {}
    used: set[tuple] = set()
    questions: set[str] = set()
    out: list[QAItem] = []
    while len(out) < n_questions and weights:
        names = list(weights)
        p = np.asarray([weights[n] for n in names])
        name = names[int(rng.choice(len(names), p=p / p.sum()))]
        if name not in remaining:
            remaining[name] = instances(name, facts)
        remaining[name] = [i for i in remaining[name] if i.key not in used]
        if not remaining[name]:
            del weights[name]
            continue
        answers = sorted({i.answer for i in remaining[name]})
        answer = answers[int(rng.integers(len(answers)))]
        candidates = [i for i in remaining[name] if i.answer == answer]
        inst = candidates[int(rng.integers(len(candidates)))]
        used.add(inst.key)
        mc = form == "mc4" or (form == "mixed" and TASKS[name].multiple_choice and rng.random() < 0.5)
        choices, index = [], -1
        if mc:
            distractors = _distractors(name, inst, rng)
            if distractors is not None:
                choices = distractors + [inst.answer]
                order = rng.permutation(len(choices))
                choices = [choices[int(j)] for j in order]
                index = choices.index(inst.answer)
            elif form == "mc4":
                continue
        phrasings = TEMPLATES[name][inst.variant]
        question = fill(phrasings[int(rng.integers(len(phrasings)))], **inst.slots)
        if question in questions:
            continue
        questions.add(question)
        out.append(QAItem(TASKS[name].level, name, question, inst.answer, choices, index, dict(inst.params)))
    return out


def generate_qa(scene: SceneSpec, rng: np.random.Generator, *, tasks: Mapping[str, float] | None = None,
                n_questions: int = 4, form: str = "mixed", vocabulary: Sequence[str] | None = None,
                trajectories: Sequence | None = None) -> list[dict]:
    """Up to ``n_questions`` question/answer rows about ``scene``, answers from its metadata.

    scene:       the resolved scene; only its metadata is read
    rng:         every random draw (task, answer, instance, phrasing, form, options)
    tasks:       weight per task name (see :data:`~binsynth.qa.taxonomy.TASKS`); None = all equally
                 (the motion tasks only when a source moves)
    form:        "open", "mc4" or "mixed"
    vocabulary:  class labels that may serve as absent-class distractors (default: a built-in list)
    trajectories: per source its (t, az, el, dist) frames, [] when still (None: the scene's own,
                 from each source's path)
    returns      dicts with keys level, task, question, answer, answer_norm (the canonical form
                 a reward compares), choices, answer_index (``QA_TYPE``)
    """
    return [it.to_row() for it in generate_items(scene, rng, tasks=tasks, n_questions=n_questions, form=form,
                                                 vocabulary=vocabulary, trajectories=trajectories)]
