"""sample_scene(recipe, split, index) -> SceneSpec: a pure function of (recipe, split, index).

All randomness comes from ``numpy.random.default_rng([seed, split_number, index])``
(``split_number`` = the split's position in the recipe's sorted split names), drawn in a
fixed order: clip duration, room, listener, sources (count, then per source: corpus, clip,
timing, gain, direction), background, QA. Timing honours ``min_gap_s`` between onsets and
``max_overlap`` (most sources sounding at once); with ``snr_db`` each source after the
first placed one is that many dB below it. So scene i of a split is the same whatever
else is rendered, in whatever order, by whichever worker.

Placement: a source's direction (head frame) and distance are drawn together and redrawn
(up to :data:`MAX_TRIES` times) until the source lies inside the room ``margin_m`` from the
walls and at least ``min_separation_deg`` (great circle) from the sources placed before it;
a source that cannot be placed is dropped and counted in ``scene.extra["dropped_sources"]``
(never a label for audio that is not there).

Motion (``sources.motion``; recipes without it draw nothing for it, so their scenes are
unchanged): after a source is placed, one draw decides whether it moves; a moving source
then draws its path kind, speed and heading or sense until the path keeps the margin inside
the room and its distance to the head (:data:`MOTION_TRIES` tries; else it stays still).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from binsynth.acoustics.brir import MIN_DISTANCE_M
from binsynth.geometry import head_to_room, sph_to_cart, wrap_azimuth_deg
from binsynth.scene.paths import positions_at
from binsynth.scene.record import ListenerSpec, RoomSpec, SceneSpec, SourceSpec

MAX_TRIES = 200


def draw(value, rng: np.random.Generator):
    """A recipe parameter's value for this scene: a distribution is sampled, a number kept."""
    return value.sample(rng) if hasattr(value, "sample") else value


def split_number(recipe, split: str) -> int:
    return sorted(recipe.dataset.splits).index(split)


def scene_rng(recipe, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([recipe.dataset.seed, split_number(recipe, split), index])


def corpora_for(recipe) -> list:
    """The recipe's corpora as :class:`binsynth.corpora.base.Corpus` objects, clips split by
    the corpus's own ``split_weights`` or, by default, in proportion to the dataset's
    split sizes (only the dataset's splits, so no clip is left unused)."""
    from binsynth.corpora import make_corpus

    total = sum(n for n in recipe.dataset.splits.values() if n > 0)
    default = {s: n / total for s, n in recipe.dataset.splits.items() if n > 0}
    out = []
    for spec in recipe.sources.corpora:
        options = spec.model_dump(exclude={"type", "weight", "split_weights", "name"}, exclude_none=True)
        weights = spec.split_weights or default
        if spec.type == "manifest":  # a listed file that is missing is screened like any bad file
            options["check_files"] = False
        out.append(make_corpus(spec.type, name=spec.name or spec.type, split_weights=weights, **options))
    return out


def sample_scene(recipe, split: str, index: int, corpora: list | None = None) -> SceneSpec:
    """Scene ``index`` of ``split``: room, listener, placed sources with clips, background, QA."""
    corpora = corpora if corpora is not None else corpora_for(recipe)
    rng = scene_rng(recipe, split, index)
    fs = recipe.audio.sample_rate_hz
    duration = float(draw(recipe.audio.duration_s, rng))

    room, dims = _room(recipe, rng)
    listener = _listener(recipe, rng, dims)

    src_cfg = recipe.sources
    n_wanted = int(draw(src_cfg.n_sources, rng))
    weights = np.array([c.weight for c in recipe.sources.corpora], dtype=float)
    sources: list[SourceSpec] = []
    dropped = 0
    for _ in range(n_wanted):
        k = int(rng.choice(len(corpora), p=weights / weights.sum()))
        clips = _clips(corpora[k], split)
        clip = clips[int(rng.integers(len(clips)))]
        timing = _timing(src_cfg, rng, sources, duration)
        if src_cfg.snr_db is not None:  # later sources relative to the first one placed
            relative = float(draw(src_cfg.snr_db, rng))
            gain_db = 0.0 if not sources else -relative
        else:
            gain_db = float(draw(src_cfg.gain_db, rng)) if src_cfg.gain_db is not None else 0.0
        placed = _place(recipe, rng, dims, listener, sources)
        if placed is None or timing is None:
            dropped += 1
            continue
        az, el, dist, pos = placed
        spec = SourceSpec(
            label=clip.label, clip_id=f"{corpora[k].name}:{clip.clip_id}", azimuth_deg=az, elevation_deg=el,
            distance_m=dist, position_m=pos, onset_s=timing[0], offset_s=timing[1], gain_db=gain_db,
        )
        if src_cfg.motion is not None:  # no draw at all for recipes without motion
            spec.motion = _motion(src_cfg.motion, recipe.placement, rng, dims, listener, spec)
        sources.append(spec)
    background = None
    if recipe.background.enabled:
        background = {"type": recipe.background.type, "snr_db": float(draw(recipe.background.snr_db, rng))}
    scene = SceneSpec(
        index=index, split=split, seed=_scene_seed(recipe, split, index), sample_rate_hz=fs,
        duration_s=duration, room=room, listener=listener, sources=sources, hrtf=recipe.hrtf_for(split),
        background=background, extra={"dropped_sources": dropped},
    )
    if recipe.qa.enabled and sources:
        from binsynth.qa import generate_qa

        n_q = int(draw(recipe.qa.questions_per_scene, rng))
        scene.extra["qa"] = generate_qa(scene, rng, tasks=dict(recipe.qa.tasks), n_questions=n_q, form=recipe.qa.form)
    return scene


_CLIPS: dict[tuple[int, str], tuple] = {}


def _clips(corpus, split: str) -> list:
    """A corpus's clips of a split, listed once per process (listing hashes every clip id)."""
    key = (id(corpus), split)
    if key not in _CLIPS or _CLIPS[key][0] is not corpus:
        _CLIPS[key] = (corpus, corpus.clips(split))
    return _CLIPS[key][1]


def _scene_seed(recipe, split: str, index: int) -> int:
    """A 31-bit key for the scene's render-time noise (BRIR tails)."""
    seq = np.random.SeedSequence([recipe.dataset.seed, split_number(recipe, split), index, 0xB125])
    return int(seq.generate_state(1, np.uint32)[0] >> 1)


def _room(recipe, rng):
    cfg = recipe.room
    if cfg.anechoic:
        return RoomSpec(anechoic=True, air_absorption=cfg.air_absorption), None
    dims = [float(draw(cfg.dimensions_m.x, rng)), float(draw(cfg.dimensions_m.y, rng)), float(draw(cfg.dimensions_m.z, rng))]
    if cfg.materials is not None:
        a = cfg.materials.absorption
        absorption = np.asarray(a, dtype=float).tolist() if isinstance(a, list) else np.full((6, 7), float(draw(a, rng))).tolist()
        return RoomSpec(False, dims, None, absorption, cfg.air_absorption), dims
    return RoomSpec(False, dims, float(draw(cfg.rt60_s, rng)), None, cfg.air_absorption), dims


def _listener(recipe, rng, dims) -> ListenerSpec:
    cfg = recipe.room.listener
    height = float(draw(cfg.height_m, rng))
    if dims is None:
        xy = [0.0, 0.0]
    elif cfg.position_m is not None:
        xy = [float(draw(cfg.position_m.x, rng)), float(draw(cfg.position_m.y, rng))]
    else:
        frac = cfg.position_frac
        fx, fy = (float(draw(frac.x, rng)), float(draw(frac.y, rng))) if frac is not None else (0.5, 0.5)
        xy = [fx * dims[0], fy * dims[1]]
    return ListenerSpec([xy[0], xy[1], height], float(draw(cfg.yaw_deg, rng)), float(draw(cfg.pitch_deg, rng)))


def _timing(cfg, rng, placed: list[SourceSpec], duration: float) -> tuple[float, float] | None:
    """(onset, offset) in seconds honouring ``min_gap_s`` between onsets and ``max_overlap``."""
    for _ in range(MAX_TRIES):
        onset = float(draw(cfg.onset_s, rng))
        length = float(draw(cfg.duration_s, rng)) if cfg.duration_s is not None else duration
        offset = min(duration, onset + length)
        if not 0.0 <= onset < offset:
            continue
        if any(abs(onset - s.onset_s) < cfg.min_gap_s for s in placed):
            continue
        if cfg.max_overlap is not None and _most_at_once(placed, onset, offset) > cfg.max_overlap:
            continue
        return onset, offset
    return None


def _most_at_once(placed: list[SourceSpec], onset: float, offset: float) -> int:
    """Most sources sounding together if one more plays over [onset, offset)."""
    events = sorted([(s.onset_s, 1) for s in placed] + [(s.offset_s, -1) for s in placed] + [(onset, 1), (offset, -1)],
                    key=lambda e: (e[0], e[1]))
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def _place(recipe, rng, dims, listener: ListenerSpec, placed: list[SourceSpec]):
    cfg = recipe.placement
    for _ in range(MAX_TRIES):
        az = float(draw(cfg.azimuth_deg, rng))
        el = float(draw(cfg.elevation_deg, rng))
        dist = float(draw(cfg.distance_m, rng))
        az = float(wrap_azimuth_deg(az))
        if dist < MIN_DISTANCE_M:
            continue
        pos = head_to_room(az, el, dist, listener.position_m, listener.yaw_deg, listener.pitch_deg)
        if dims is not None and cfg.inside_room:
            m = cfg.margin_m
            if np.any(pos < m) or np.any(pos > np.asarray(dims) - m):
                continue
        u = sph_to_cart(az, el)
        if any(np.degrees(np.arccos(np.clip(u @ sph_to_cart(s.azimuth_deg, s.elevation_deg), -1, 1))) < cfg.min_separation_deg
               for s in placed):
            continue
        return az, el, dist, [float(p) for p in pos]
    return None


#: Paths tried for a moving source before it is left still.
MOTION_TRIES = 20
#: Spacing of the points at which a candidate path is checked, seconds.
PATH_CHECK_S = 0.02


def _motion(cfg, placement, rng, dims, listener: ListenerSpec, src: SourceSpec) -> dict | None:
    """A path for ``src`` (see :mod:`binsynth.scene.paths`) or None (still): it moves with
    ``cfg.moving_probability``; a path must keep ``placement.margin_m`` inside the room and
    come no closer to the head than ``cfg.min_distance_m`` (or its start, if that is closer)."""
    if not rng.random() < cfg.moving_probability:
        return None
    paths = cfg.paths
    span = src.offset_s - src.onset_s
    for _ in range(MOTION_TRIES):
        kind = paths[int(rng.integers(len(paths)))]
        if kind == "arc":
            rate = float(draw(cfg.angular_speed_deg_s, rng))
            radius = src.distance_m * np.cos(np.radians(src.elevation_deg))  # of the circle swept
            if radius > 0:
                rate = min(rate, float(np.degrees(cfg.max_speed_m_s / radius)))
            motion = {"path": "arc", "angular_speed_deg_s": rate if rng.random() < 0.5 else -rate}
        else:
            speed = min(float(draw(cfg.speed_m_s, rng)), cfg.max_speed_m_s)
            heading = rng.uniform(0.0, 2 * np.pi)
            end = np.asarray(src.position_m) + speed * span * np.array([np.cos(heading), np.sin(heading), 0.0])
            motion = {"path": "line", "end_m": [float(p) for p in end]}
        if _path_fits(replace(src, motion=motion), placement, dims, listener, cfg.min_distance_m):
            return motion
    return None


def _path_fits(src: SourceSpec, placement, dims, listener: ListenerSpec, min_distance_m: float) -> bool:
    """Whether the whole path (not just sampled points of it) keeps the margin inside the room
    and its distance to the head: a line's closest approach is exact, and an arc, checked every
    :data:`PATH_CHECK_S`, is held the most its chord can bulge further from the walls."""
    span = src.offset_s - src.onset_s
    head = np.asarray(listener.position_m)
    margin = placement.margin_m if placement.inside_room else 0.0
    if src.motion["path"] == "line":
        a, b = np.asarray(src.position_m, dtype=float), np.asarray(src.motion["end_m"], dtype=float)
        d = b - a
        u = float(np.clip((head - a) @ d / max(d @ d, 1e-300), 0.0, 1.0))
        if np.linalg.norm(a + u * d - head) < min(min_distance_m, src.distance_m) - 1e-9:
            return False
        points, bulge = np.stack([a, b]), 0.0  # a box holds a segment when it holds its ends
    else:  # an arc keeps its distance; sampled, with the chord's sagitta added to the margin
        steps = max(2, int(np.ceil(span / PATH_CHECK_S)) + 1)
        points = positions_at(src, listener, src.onset_s + np.linspace(0.0, span, steps))
        radius = src.distance_m * np.cos(np.radians(src.elevation_deg))
        turn = np.radians(abs(src.motion["angular_speed_deg_s"]) * span / (steps - 1))
        bulge = radius * (1.0 - np.cos(turn / 2))
    if dims is not None:
        m = margin + bulge
        if np.any(points < m) or np.any(points > np.asarray(dims) - m):
            return False
    return True
