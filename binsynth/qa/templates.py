"""Question phrasings: several per task and variant, picked at random per question.

Slots: ``{x}``, ``{y}`` — a named source with its article ("the dog"); ``{sector}`` — a
sector name ("front-left"); ``{theta}`` — a turn in degrees; ``{dir}`` — left or right;
``{cond}`` — a compound condition ("on your left and above ear level"); ``{anchor}`` —
"the nearest sound", "the dog", … The first letter of a question is capitalised after
filling.
"""

from __future__ import annotations

AZ_CONVENTION = "(counter-clockwise from straight ahead, positive to the left)"

TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "presence": {"": (
        "Which sounds can you hear in this recording?",
        "What kinds of sound sources are present in the scene?",
        "List the sound classes you hear.",
        "Name every type of sound in this clip.",
    )},
    "count": {"": (
        "How many sound sources are there?",
        "How many distinct sources can you hear in this scene?",
        "Count the sound sources around you. How many are there?",
        "What is the number of sources in the recording?",
    )},
    "sound_class": {"": (
        "What sound do you hear?",
        "What is making the sound in this recording?",
        "Which kind of sound is this?",
        "Identify the sound source.",
    )},
    "side": {"": (
        "Is {x} on your left or on your right?",
        "Do you hear {x} on the left or on the right?",
        "On which side of your head is {x}, left or right?",
        "Is {x} to your left or to your right?",
    )},
    "direction_sector": {"": (
        "From which direction does {x} come?",
        "Where is {x} relative to you?",
        "In which direction, relative to where you face, is {x}?",
        "Which way would you point to indicate {x}?",
    )},
    "direction_degrees": {"": (
        "At what azimuth is {x}, in degrees " + AZ_CONVENTION + "?",
        "Give the direction of {x} in degrees " + AZ_CONVENTION + ".",
        "Estimate the azimuth angle of {x} " + AZ_CONVENTION + ".",
        "How many degrees from straight ahead is {x}? Use counter-clockwise degrees, positive to the left.",
    )},
    "elevation": {"": (
        "Is {x} above, below, or at the level of your ears?",
        "Does {x} come from above you, from below you, or from ear level?",
        "What is the elevation of {x}: above, level, or below?",
        "Relative to your head height, is {x} higher, level, or lower?",
    )},
    "distance": {"": (
        "How far away is {x}, in metres?",
        "What is the distance to {x} in metres?",
        "Estimate how many metres {x} is from you.",
        "How many metres separate you from {x}?",
    )},
    "near_far": {"": (
        "Is {x} near you or far away?",
        "Would you say {x} is close to you or distant?",
        "Is {x} near you (closer than 1.5 m) or farther away?",
        "Near or far: where is {x}?",
    )},
    "reverberation": {"": (
        "How reverberant is the space you are in?",
        "Describe the reverberation of the environment.",
        "Is the space free of reverberation, dry, moderately reverberant, or very reverberant?",
        "How much echo does the room add to the sounds?",
    )},
    "room_size": {"": (
        "How big is the room?",
        "What is the size of the room you are in?",
        "Judging by the acoustics, is the room small, medium, large, or very large?",
        "Estimate the size of the space around you.",
    )},
    "lateral_relation": {"": (
        "Is {x} to the left or to the right of {y}?",
        "Relative to {y}, is {x} more to your left or more to your right?",
        "Compared with {y}, is {x} on the left or on the right?",
        "Which side of {y} is {x} on, left or right?",
    )},
    "front_back_relation": {"": (
        "Is {x} in front of or behind {y}?",
        "Compared with {y}, is {x} more in front of you or more behind you?",
        "Relative to {y}, is {x} further forward or further back?",
        "Which is true: {x} is in front of {y}, or {x} is behind {y}?",
    )},
    "closer": {
        "near": (
            "Which is closer to you, {x} or {y}?",
            "Of {x} and {y}, which one is nearer?",
            "Is {x} or {y} closer to you?",
            "Which sound source is nearer: {x} or {y}?",
        ),
        "far": (
            "Which is farther from you, {x} or {y}?",
            "Of {x} and {y}, which one is more distant?",
            "Is {x} or {y} farther away?",
            "Which sound source is further away: {x} or {y}?",
        ),
    },
    "extreme_lateral": {
        "left": (
            "Which sound is furthest to your left?",
            "Which source is the leftmost?",
            "Of all the sounds, which one is the most to the left?",
            "What is the leftmost sound source?",
        ),
        "right": (
            "Which sound is furthest to your right?",
            "Which source is the rightmost?",
            "Of all the sounds, which one is the most to the right?",
            "What is the rightmost sound source?",
        ),
    },
    "extreme_distance": {
        "near": (
            "Which sound source is closest to you?",
            "What is the nearest sound?",
            "Which of the sounds is nearest to you?",
            "Identify the closest source.",
        ),
        "far": (
            "Which sound source is farthest from you?",
            "What is the most distant sound?",
            "Which of the sounds is farthest away?",
            "Identify the source furthest from you.",
        ),
    },
    "source_at_sector": {"": (
        "Which sound comes from the {sector}?",
        "What is the sound on your {sector} side?",
        "What do you hear from the {sector} direction?",
        "Identify the source located to your {sector}.",
    )},
    "where_how_far": {"": (
        "Where is {x} and how far away is it?",
        "Give the direction and distance of {x}.",
        "In which direction is {x}, and how many metres away?",
        "Locate {x}: which direction, and at what distance?",
    )},
    "temporal_order": {
        "first": (
            "Which starts first, {x} or {y}?",
            "Of {x} and {y}, which begins earlier?",
            "Does {x} or {y} start sounding first?",
            "Which do you hear first: {x} or {y}?",
        ),
        "last": (
            "Which starts later, {x} or {y}?",
            "Of {x} and {y}, which begins second?",
            "Does {x} or {y} start sounding later?",
            "Which comes in after the other: {x} or {y}?",
        ),
    },
    "first_onset": {
        "first": (
            "Which sound starts first?",
            "What is the first sound you hear?",
            "Which source begins earliest in the recording?",
            "Which sound is the first to start?",
        ),
        "last": (
            "Which sound starts last?",
            "What is the last sound to begin?",
            "Which source begins latest in the recording?",
            "Which sound is the last to come in?",
        ),
    },
    "overlap": {"": (
        "Do {x} and {y} sound at the same time?",
        "Is there any moment when {x} and {y} overlap?",
        "Are {x} and {y} ever audible simultaneously?",
        "Do {x} and {y} overlap in time?",
    )},
    "rotation": {
        "turn": (
            "If you turn {theta} degrees to your {dir}, where will {x} be?",
            "Imagine rotating your head {theta} degrees to the {dir}. In which direction would {x} then be?",
            "After turning {dir} by {theta} degrees, from which direction does {x} come?",
            "Suppose you turn {theta} degrees {dir}. Where is {x} now relative to you?",
        ),
        "around": (
            "If you turn around, where will {x} be?",
            "After a half turn of 180 degrees, from which direction does {x} come?",
            "Suppose you turn to face the opposite way. Where would {x} be?",
            "Imagine turning 180 degrees. In which direction is {x} then?",
        ),
    },
    "face_source": {"": (
        "If you turn to face {x}, where will {y} be?",
        "Imagine turning your head toward {x}. In which direction is {y} then?",
        "After you turn to look at {x}, from which direction does {y} come?",
        "Suppose you face {x}. Where is {y} relative to you?",
    )},
    "nearest_if_stopped": {"": (
        "If {x} stopped, which sound would be the nearest?",
        "Suppose {x} went silent. Which remaining source is closest to you?",
        "Ignoring {x}, which sound source is nearest?",
        "Without {x}, what would be the closest sound?",
    )},
    "behind_when_facing": {"": (
        "Suppose you turn to face {x} and start walking toward it. Which sounds are behind you?",
        "If you faced {x} and walked toward it, which sources would be at your back?",
        "Turn toward {x} and walk to it: which other sounds are then behind you?",
        "Facing {x} and heading toward it, which sounds would you be leaving behind?",
    )},
    "compound": {"": (
        "Is {anchor} {cond}?",
        "Answer yes or no: is {anchor} {cond}?",
        "Is it true that {anchor} is {cond}?",
        "Yes or no: would you say {anchor} is {cond}?",
    )},
    "moving_or_still": {"": (
        "Is {x} moving or staying still?",
        "Does {x} move, or is it stationary?",
        "Is {x} in motion or still?",
        "Does {x} stay in one place, or does it move?",
    )},
    "motion_direction": {"": (
        "Does {x} move from left to right or from right to left?",
        "In which direction does {x} travel: left to right, or right to left?",
        "Is {x} passing from your left to your right, or from your right to your left?",
        "Which way does {x} move across you, left to right or right to left?",
    )},
    "approach": {"": (
        "Is {x} coming closer or moving away?",
        "Is {x} approaching you or receding?",
        "Does {x} get nearer or farther while you hear it?",
        "Is {x} approaching or moving away from you?",
    )},
    "path_sectors": {"": (
        "Where does {x} start and where does it end?",
        "From which direction to which direction does {x} move?",
        "{x} moves: in which direction does it begin, and in which does it finish?",
        "Describe the path of {x}: from which sector to which sector?",
    )},
    "which_moves": {"": (
        "Which of the sounds is moving?",
        "One sound source moves. Which one?",
        "Which source changes its position during the clip?",
        "Which sound is not standing still?",
    )},
    "nearer_at_end": {"": (
        "When they stop, which is nearer to you: {x} or {y}?",
        "By the end of the clip, which of {x} and {y} is closer to you?",
        "Follow {x} and {y} to where they end. Which one ends up nearer?",
        "At their final positions, is {x} or {y} closer to you?",
    )},
}

#: Phrases for compound conditions, by (axis, value).
CONDITION_PHRASES: dict[tuple[str, str], str] = {
    ("side", "left"): "on your left",
    ("side", "right"): "on your right",
    ("front_back", "front"): "in front of you",
    ("front_back", "back"): "behind you",
    ("elevation", "above"): "above ear level",
    ("elevation", "level"): "at ear level",
    ("elevation", "below"): "below ear level",
    ("near_far", "near"): "closer than 1.5 m",
    ("near_far", "far"): "farther than 1.5 m away",
}

ANCHOR_PHRASES = {"nearest": "the nearest sound", "farthest": "the farthest sound",
                  "first": "the sound that starts first"}


def fill(template: str, **slots) -> str:
    text = template.format(**slots)
    return text[:1].upper() + text[1:]
