"""Rule-based rewards for GRPO and evaluation, from the normalised answers.

correctness (0 or 1): :func:`binsynth.qa.answer_matches` between the reply's ``<answer>``
and the reference — exact class/label/count/sector match after normalisation, direction
within ``tolerance_deg`` (circular), distance within ``tolerance_m``, and for
multiple-choice questions the option letter (or the option's text).
format (0 or 1): the reply is exactly ``<think>…</think><answer>…</answer>``.
reward = (1 - format_weight) · correctness + format_weight · format, in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

from binsynth.qa import DEFAULT_TOLERANCE_DEG, DEFAULT_TOLERANCE_M, answer_matches
from binsynth.trainer.prompts import parse_reply


@dataclass(frozen=True)
class RewardOptions:
    format_weight: float = 0.1
    tolerance_deg: float = DEFAULT_TOLERANCE_DEG
    tolerance_m: float = DEFAULT_TOLERANCE_M


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
    reward = (1.0 - opts.format_weight) * float(correct) + opts.format_weight * float(formed)
    return Scored(answer, bool(correct), formed, reward)
