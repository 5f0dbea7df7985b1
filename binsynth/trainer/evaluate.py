"""Held-out evaluation, reported like the spatial-QA benchmarks: accuracy per level
(L1 perception, L2 integration, L3 reasoning) and per task, multiple-choice accuracy,
azimuth mean absolute error (``direction_degrees`` questions, circular, degrees), distance
error rate (``distance`` questions: share off by more than 0.5 m, as in BAT), and the mean
reward with its standard error.

Probes: besides the shards' own questions, every test scene is asked the three questions
the trainer is judged on, in open form — ``side`` (left/right of the source, asked when its
lateral angle is ≥ 20°), ``direction_sector`` (8 sectors; chance 12.5 %) and
``sound_class`` — once with both streams and once with the spatial stream zeroed (the
control: 'where' must vanish with it).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from binsynth.qa import answer_error, generate_items
from binsynth.scene.record import SceneSpec
from binsynth.trainer.data import Example
from binsynth.trainer.generation import decode, generate_replies
from binsynth.trainer.rewards import RewardOptions, score

PROBES = {"side": "left_right_acc", "direction_sector": "sector8_acc", "sound_class": "class_acc"}
PROBE_SEED = 4242
DISTANCE_ERROR_M = 0.5


def probe_examples(rows: list[dict], first_clip: int = 0) -> list[Example]:
    """One open question per probe task per test scene (where the task applies)."""
    out = []
    for k, row in enumerate(rows):
        scene = SceneSpec.from_json(row["scene"])
        for j, task in enumerate(PROBES):
            for it in generate_items(scene, np.random.default_rng([PROBE_SEED, k, j]), tasks={task: 1.0},
                                     n_questions=1, form="open"):
                out.append(Example(first_clip + k, task, it.level, it.question, [], it.answer))
    return out


def _mean_se(values) -> tuple[float, float]:
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else 0.0


def score_replies(bundle, examples: list[Example], clips: list, *, zero_spatial: bool = False, batch_size: int = 64,
                  rewards: RewardOptions = RewardOptions(), max_new_tokens: int = 24) -> list:
    replies = generate_replies(bundle, examples, clips, batch_size=batch_size, zero_spatial=zero_spatial,
                               max_new_tokens=max_new_tokens)
    return [score(ex, decode(bundle, r), rewards) for ex, r in zip(examples, replies)]


def summarize(examples: list[Example], scored: list) -> dict:
    """Metrics of scored replies to the shards' questions."""
    by_task, by_level = defaultdict(list), defaultdict(list)
    mc, az_err, dist_err = [], [], []
    for ex, s in zip(examples, scored):
        by_task[ex.task].append(s.correct)
        by_level[f"L{ex.level}"].append(s.correct)
        if ex.choices:
            mc.append(s.correct)
        elif ex.task in ("direction_degrees", "distance"):
            err = answer_error(ex.task, s.answer or "", ex.answer)
            if ex.task == "direction_degrees":
                az_err.append(180.0 if err is None else err)
            else:
                dist_err.append(err is None or err > DISTANCE_ERROR_M)
    reward, reward_se = _mean_se([s.reward for s in scored])
    acc = lambda xs: round(float(np.mean(xs)), 4) if xs else None  # noqa: E731
    return {
        "n_questions": len(scored), "reward": round(reward, 4), "reward_se": round(reward_se, 4),
        "accuracy": acc([s.correct for s in scored]),
        "format_rate": acc([s.well_formed for s in scored]),
        "per_level": {k: {"acc": acc(v), "n": len(v)} for k, v in sorted(by_level.items())},
        "per_task": {k: {"acc": acc(v), "n": len(v)} for k, v in sorted(by_task.items())},
        "mc_acc": acc(mc), "mc_n": len(mc),
        "azimuth_mae_deg": round(float(np.mean(az_err)), 2) if az_err else None, "azimuth_n": len(az_err),
        "distance_error_rate": acc(dist_err), "distance_n": len(dist_err),
    }


def probe_metrics(probes: list[Example], full: list, zeroed: list) -> dict:
    """Probe accuracies (``left_right_acc``, …, with ``_n`` counts), and for the two 'where'
    probes the same with the spatial stream zeroed (``…_spatial_zeroed``)."""
    def acc(scored, task):
        hits = [s.correct for ex, s in zip(probes, scored) if ex.task == task]
        return (round(float(np.mean(hits)), 4) if hits else None), len(hits)

    out = {}
    for task, key in PROBES.items():
        out[key], out[key.replace("_acc", "_n")] = acc(full, task)
        if task in ("side", "direction_sector"):
            out[f"{key}_spatial_zeroed"] = acc(zeroed, task)[0]
    return out


def paired_gain(before: list, after: list) -> tuple[float, float]:
    """Mean reward gain on the same questions and its standard error."""
    return _mean_se([b.reward - a.reward for a, b in zip(before, after)])
