"""Rule-based rewards for GRPO and evaluation, from the normalised answers.

correctness (0 or 1): :func:`binsynth.qa.answer_matches` between the reply's ``<answer>``
and the reference — exact class/label/count/sector match after normalisation, direction
within ``tolerance_deg`` (circular), distance within ``tolerance_m``, and for
multiple-choice questions the option letter (or the option's text).
format (0 or 1): the reply is exactly ``<think>…</think><answer>…</answer>``.
reward = (1 - format_weight) · correctness + format_weight · format, in [0, 1].

graded credit (GRPO's training reward only, ``graded`` > 0): a wrong answer to a question
about an angle or a distance earns ``graded`` × max(0, 1 - error / scale) instead of 0 —
azimuth error (circular) over 90° for ``degrees`` answers, the angle between sector
centres over 90° for sectors (an adjacent sector: half), metres over 1.5 m for distances;
multiple-choice letters count as their option's value. Exact answers keep their 1. A group
whose replies are all wrong, but some less wrong, then still has an advantage to learn from.
"""

from __future__ import annotations

from dataclasses import dataclass

from binsynth.qa import DEFAULT_TOLERANCE_DEG, DEFAULT_TOLERANCE_M, answer_error, answer_matches
from binsynth.qa.taxonomy import TASKS
from binsynth.trainer.prompts import parse_reply


@dataclass(frozen=True)
class RewardOptions:
    format_weight: float = 0.1
    tolerance_deg: float = DEFAULT_TOLERANCE_DEG
    tolerance_m: float = DEFAULT_TOLERANCE_M
    graded: float = 0.0


#: error at which graded credit reaches 0, per answer kind (degrees, degrees, metres)
GRADED_SCALE = {"degrees": 90.0, "sector": 90.0, "metres": 1.5}


def graded_credit(example, answer: str) -> float:
    """max(0, 1 - error / scale) of an angle or distance answer, 0 for other kinds or unparsed answers."""
    scale = GRADED_SCALE.get(TASKS[example.task].kind)
    err = answer_error(example.task, answer, example.answer, example.choices or None) if scale else None
    return 0.0 if err is None else max(0.0, 1.0 - err / scale)


@dataclass(frozen=True)
class Scored:
    answer: str | None
    correct: bool
    well_formed: bool
    reward: float


def score(example, reply: str, opts: RewardOptions = RewardOptions()) -> Scored:
    """Reward of ``reply`` (decoded model text) to ``example`` (a :class:`~binsynth.trainer.data.Example`)."""
    answer, formed = parse_reply(reply)
    correct = False
    if answer:
        correct = answer_matches(example.task, answer, example.answer, choices=example.choices or None,
                                 tolerance_deg=opts.tolerance_deg, tolerance_m=opts.tolerance_m)
    credit = float(correct)
    if not correct and answer and opts.graded > 0:
        credit = opts.graded * graded_credit(example, answer)
    reward = (1.0 - opts.format_weight) * credit + opts.format_weight * float(formed)
    return Scored(answer, bool(correct), formed, reward)
