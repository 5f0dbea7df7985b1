"""The task taxonomy: every QA task's level, answer kind, forms and definition.

Level 1 (perception) asks about one source or the scene as a whole; level 2 (integration)
relates two or more sources or binds identity to place and time; level 3 (reasoning) asks
what changes under a hypothetical (a head turn, a source stopping, walking toward one).
Definitions and thresholds are those of :mod:`binsynth.qa.facts`.
"""

from __future__ import annotations

from dataclasses import dataclass

from binsynth.qa import facts as F

LEVEL_NAMES = {1: "perception", 2: "integration", 3: "reasoning"}


@dataclass(frozen=True)
class TaskInfo:
    """One task. ``kind`` selects the answer normaliser; ``multiple_choice`` says whether it
    has at least four natural options (binary and three-way tasks are asked open only)."""

    level: int
    kind: str
    multiple_choice: bool
    description: str
    definition: str


def _t(level, kind, mc, description, definition) -> TaskInfo:
    return TaskInfo(level, kind, mc, description, definition)


_SECT = f"45° sector of the azimuth; not asked within {F.SECTOR_MARGIN_DEG:g}° of a boundary or above abs(el) {F.MAX_ELEVATION_FOR_AZIMUTH_DEG:g}°"
_LAT = f"lateral angle φ = asin(sin az·cos el); gap ≥ {F.LATERAL_MARGIN_DEG:g}°"

TASKS: dict[str, TaskInfo] = {
    # ---------------------------------------------------------------- level 1: perception
    "presence": _t(1, "labels", True, "Which sound classes are present",
                   "sorted distinct labels of all sources"),
    "count": _t(1, "count", True, "How many sources there are", "number of sources"),
    "sound_class": _t(1, "label", True, "What the one sound is", "the label of the scene's only source"),
    "side": _t(1, "left_right", False, "Whether X is on the left or the right",
               f"sign of the lateral angle φ = asin(sin az·cos el); asked when abs(φ) ≥ {F.HEMISPHERE_MARGIN_DEG:g}°"),
    "direction_sector": _t(1, "sector", True, "Direction of X as one of 8 sectors", _SECT),
    "direction_degrees": _t(1, "degrees", True, "Azimuth of X in degrees",
                            "azimuth rounded to 1°, CCW from the front, +90 = left; not asked above "
                            f"abs(el) {F.MAX_ELEVATION_FOR_AZIMUTH_DEG:g}°; distractors ≥ 30° away"),
    "elevation": _t(1, "elevation", False, "Whether X is above, level or below",
                    f"above if el > {F.ELEVATION_THRESHOLD_DEG:g}°, below if el < -{F.ELEVATION_THRESHOLD_DEG:g}°, "
                    f"else level; margin {F.ELEVATION_MARGIN_DEG:g}°"),
    "distance": _t(1, "metres", True, "Distance of X in metres",
                   "distance rounded to 0.1 m; distractors ≥ 1 m away"),
    "near_far": _t(1, "near_far", False, "Whether X is near or far",
                   f"near if distance < {F.NEAR_FAR_THRESHOLD_M:g} m; margin 10 %"),
    "reverberation": _t(1, "reverb", True, "How reverberant the room is",
                        "free field: no reverberation; RT60 at 1 kHz: dry < 0.3 s ≤ moderate < 0.8 s ≤ "
                        "reverberant; margin 10 %"),
    "room_size": _t(1, "room_size", True, "How large the room is",
                    "volume: small < 50 m³ ≤ medium < 200 m³ ≤ large < 1000 m³ ≤ very large; margin 10 %; "
                    "not asked in free field"),
    # ---------------------------------------------------------------- level 2: integration
    "lateral_relation": _t(2, "left_right", False, "Is X to the left or right of Y",
                           f"X left of Y iff φ_X > φ_Y; {_LAT}"),
    "front_back_relation": _t(2, "front_back", False, "Is X in front of or behind Y",
                              f"frontal angle ψ = asin(cos az·cos el); X in front of Y iff ψ_X > ψ_Y; gap ≥ "
                              f"{F.LATERAL_MARGIN_DEG:g}°"),
    "closer": _t(2, "label", False, "Which of X and Y is closer (or farther)",
                 "compare distances; they must differ by ≥ 10 %"),
    "extreme_lateral": _t(2, "label", True, "Which source is leftmost / rightmost",
                          f"largest / smallest φ; {_LAT} to the runner-up"),
    "extreme_distance": _t(2, "label", True, "Which source is nearest / farthest",
                           "smallest / largest distance; ≥ 10 % from the runner-up"),
    "source_at_sector": _t(2, "label", True, "Which sound comes from a given sector",
                           f"exactly one source in the sector, none within {F.SECTOR_MARGIN_DEG:g}° of its "
                           f"boundaries, no source above abs(el) {F.MAX_ELEVATION_FOR_AZIMUTH_DEG:g}°"),
    "where_how_far": _t(2, "sector_distance", True, "Where X is and how far",
                        "sector (as direction_sector) and distance rounded to 0.1 m"),
    "temporal_order": _t(2, "label", False, "Which of X and Y starts first (or later)",
                         f"compare onsets; ≥ {F.ONSET_MARGIN_S:g} s apart"),
    "first_onset": _t(2, "label", True, "Which sound starts first / last",
                      f"earliest / latest onset; ≥ {F.ONSET_MARGIN_S:g} s from the runner-up"),
    "overlap": _t(2, "yes_no", False, "Do X and Y sound at the same time",
                  f"yes iff min(offsets) - max(onsets) ≥ {F.OVERLAP_MARGIN_S:g} s; no iff ≤ "
                  f"-{F.OVERLAP_MARGIN_S:g} s"),
    # ---------------------------------------------------------------- level 3: reasoning
    "rotation": _t(3, "sector", True, "Sector of X after the head turns θ left/right",
                   "turning left (CCW) by θ maps az to az - θ, right to az + θ; θ in "
                   f"{', '.join(map(str, F.TURN_ANGLES_DEG))}°; then as direction_sector"),
    "face_source": _t(3, "sector", True, "Sector of Y after turning to face X",
                      "yaw-only turn: az_Y - az_X, elevation unchanged; then as direction_sector"),
    "nearest_if_stopped": _t(3, "label", True, "Nearest source if X stopped",
                             "nearest among the other sources (≥ 2 of them); ≥ 10 % from the runner-up"),
    "behind_when_facing": _t(3, "labels", True, "Which sounds are behind you when you face X and walk toward it",
                             "after a yaw turn to az_X, S is behind iff cos(el_S)·cos(az_S - az_X) < 0; "
                             f"not asked if any abs(asin(cos el_S·cos(az_S - az_X))) < {F.SIDE_MARGIN_DEG:g}°"),
    "compound": _t(3, "yes_no", False, "Does the nearest/farthest/first/named source meet two conditions",
                   f"conditions: side (abs(φ) ≥ {F.SIDE_MARGIN_DEG:g}°), front/back (abs(ψ) ≥ {F.SIDE_MARGIN_DEG:g}°), "
                   "elevation class, near/far; yes iff both hold"),
    # ---------------------------------------------------------- motion (moving sources)
    "moving_or_still": _t(1, "moving_still", False, "Whether X moves or stays still",
                          f"still: no trajectory; moving: turns ≥ {F.MOTION_MIN_TURN_DEG:g}° or its distance changes "
                          f"≥ {100 * F.MOTION_MIN_RANGE:g} %; else not asked"),
    "motion_direction": _t(1, "motion_lr", False, "Whether X moves left to right or right to left",
                           f"lateral angle φ from first to last 100 ms frame changes ≥ {F.LATERAL_MARGIN_DEG:g}° "
                           f"without turning back by > {F.MONOTONE_SLACK_DEG:g}°; falling φ = left to right"),
    "approach": _t(1, "approach", False, "Whether X approaches or recedes",
                   f"distance from first to last frame changes ≥ 10 % without turning back by > "
                   f"{100 * F.MONOTONE_SLACK_M:g} cm"),
    "path_sectors": _t(1, "sector_pair", True, "Where X starts and ends (8 sectors)",
                       "sectors of the first and last frames, each as direction_sector; X clearly moves"),
    "which_moves": _t(2, "label", True, "Which source moves",
                      "the only source with a trajectory, clearly moving; every other source still; ≥ 2 sources"),
    "nearer_at_end": _t(3, "label", False, "Which of X and Y is nearer where they end",
                        "distances at the last frames (a still source's own); ≥ 10 % apart; at least one of "
                        "X and Y clearly moves"),
}

#: Tasks about moving sources: in a recipe's default task list only when it has ``sources.motion``.
MOTION_TASKS = ("moving_or_still", "motion_direction", "approach", "path_sectors", "which_moves", "nearer_at_end")


def describe_tasks(motion: bool = True) -> str:
    """A markdown table of the tasks, their levels, forms and definitions (for the dataset card;
    ``motion=False`` leaves out the tasks about moving sources)."""
    lines = [
        "| task | level | forms | question | definition and thresholds |",
        "|---|---|---|---|---|",
    ]
    for name, t in TASKS.items():
        if not motion and name in MOTION_TASKS:
            continue
        forms = "open, mc4" if t.multiple_choice else "open"
        lines.append(f"| `{name}` | {t.level} ({LEVEL_NAMES[t.level]}) | {forms} | {t.description} | {t.definition} |")
    notes = [
        "",
        "Azimuth is counter-clockwise from the front in (-180, 180] degrees (+90 = left); elevation "
        "+90 = above; distances in metres. Sectors: front, front-left, left, back-left, back, "
        "back-right, right, front-right, 45° wide, centred on 0°, 45°, … A question names a source "
        "only when its label is unique in the scene; a question whose answer falls inside a margin "
        "is not asked. Multiple-choice (mc4) questions have four distinct options, exactly one correct.",
    ]
    return "\n".join(lines + notes)
