"""PNG figures of scenes and of a dataset's label distributions (matplotlib, Agg).

Conventions drawn on every figure: room frame in metres seen from above (origin at a floor
corner, +x right, +y up the page); listener yaw in degrees counter-clockwise from +x;
azimuth in degrees counter-clockwise from the nose in (-180, 180], **+90 = left**;
elevation in degrees, +90 = above; distance in metres from the head centre.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from binsynth.scene.paths import head_directions, positions_at

SPLIT_COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# -------------------------------------------------------------------- one scene, from above


def _head(ax, x: float, y: float, yaw_deg: float, r: float, colour: str = "black") -> None:
    """A head of radius r at (x, y): circle, nose arrow along yaw, left-ear dot marked L."""
    from matplotlib.patches import Circle, FancyArrow

    yaw = np.deg2rad(yaw_deg)
    fwd, left = np.array([np.cos(yaw), np.sin(yaw)]), np.array([-np.sin(yaw), np.cos(yaw)])
    ax.add_patch(Circle((x, y), r, fill=True, fc="white", ec=colour, lw=1.5, zorder=5))
    ax.add_patch(FancyArrow(x, y, *(fwd * 2.2 * r), width=0.18 * r, head_width=0.7 * r, head_length=0.6 * r,
                            length_includes_head=True, color=colour, zorder=6))
    for side, name in ((left, "L"), (-left, "R")):
        ex, ey = np.array([x, y]) + side * r
        ax.plot(ex, ey, "o", ms=4, color="tab:blue" if name == "L" else "tab:red", zorder=7)
        tx, ty = np.array([x, y]) + side * 1.9 * r
        ax.text(tx, ty, name, ha="center", va="center", fontsize=8, zorder=7,
                color="tab:blue" if name == "L" else "tab:red")


def _motion_text(s) -> str:
    if s.motion is None:
        return ""
    if s.motion["path"] == "arc":
        return f"; moves: arc {s.motion['angular_speed_deg_s']:+.0f}°/s (+ = to the left)"
    speed = np.linalg.norm(np.subtract(s.motion["end_m"], s.position_m)) / max(s.offset_s - s.onset_s, 1e-9)
    return f"; moves: line {speed:.2f} m/s"


def plot_scene_top(scene, path: str | Path, title: str | None = None) -> None:
    """Top view of a :class:`~binsynth.scene.record.SceneSpec`: the room frame (walls, listener with
    a nose arrow along its yaw, numbered sources, the paths of moving sources with an arrow at
    their end) beside the head frame (azimuth polar plot, 0° = front at the top, +90° = left,
    radius = distance in metres)."""
    plt = _pyplot()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    n = len(scene.sources)
    fig = plt.figure(figsize=(13, 7.0 + 0.22 * n))
    ax = fig.add_subplot(1, 2, 1)
    polar = fig.add_subplot(1, 2, 2, projection="polar")
    colours = plt.get_cmap("tab10").colors
    lx, ly, lz = scene.listener.position_m
    ends = [positions_at(s, scene.listener, s.offset_s)[:2] for s in scene.sources if s.motion is not None]
    pts = np.array([[lx, ly]] + [s.position_m[:2] for s in scene.sources] + ends)
    if scene.room.anechoic:
        lo, hi = pts.min(0) - 1.0, pts.max(0) + 1.0
        room_text = "free field (anechoic)"
    else:
        dims = scene.room.dimensions_m
        ax.add_patch(Rectangle((0, 0), dims[0], dims[1], fill=True, fc="0.96", ec="black", lw=2.5, zorder=1))
        lo, hi = np.array([0.0, 0.0]) - 0.4, np.array(dims[:2]) + 0.4
        room_text = f"room {dims[0]:.2f} × {dims[1]:.2f} × {dims[2]:.2f} m, RT60 {scene.room.rt60_s:.2f} s at 1 kHz"
    span = float(max(hi - lo))
    r_head = 0.035 * span
    handles = [Line2D([], [], ls="", marker="$\\rightarrow$", ms=12, color="black",
                      label=f"listener at ({lx:.2f}, {ly:.2f}, {lz:.2f}) m, yaw {scene.listener.yaw_deg:+.0f}° "
                            f"(CCW from +x), pitch {scene.listener.pitch_deg:+.0f}°; arrow = nose, L/R = ears")]
    for k, s in enumerate(scene.sources):
        c = colours[k % len(colours)]
        sx, sy = s.position_m[:2]
        ax.plot([lx, sx], [ly, sy], ls="--", lw=0.8, color=c, zorder=2)
        ax.plot(sx, sy, marker="o", ms=13, color=c, mec="black", zorder=4)
        ax.text(sx, sy, str(k + 1), ha="center", va="center", fontsize=8, color="white", weight="bold", zorder=5)
        handles.append(Line2D([], [], ls="", marker="o", ms=10, color=c, mec="black",
                              label=f"{k + 1}  {s.label}: az {s.azimuth_deg:+.0f}°, el {s.elevation_deg:+.0f}°, "
                                    f"{s.distance_m:.2f} m, {s.onset_s:.2f}–{s.offset_s:.2f} s{_motion_text(s)}"))
        if s.motion is not None:  # its path, start (the marker) to end (the arrow head)
            track = positions_at(s, scene.listener, np.linspace(s.onset_s, s.offset_s, 64))
            az, _, dist = head_directions(track, scene.listener)
            for axis, (u, v) in ((ax, (track[:, 0], track[:, 1])), (polar, (np.unwrap(np.deg2rad(az)), dist))):
                axis.plot(u, v, lw=2.2, color=c, zorder=3)
                axis.annotate("", xy=(u[-1], v[-1]), xytext=(u[-2], v[-2]), zorder=3,
                              arrowprops=dict(arrowstyle="-|>", color=c, lw=2.2, mutation_scale=18))
        theta = np.deg2rad(s.azimuth_deg)
        polar.plot(theta, s.distance_m, marker="o", ms=13, color=c, mec="black", zorder=4)
        polar.text(theta, s.distance_m, str(k + 1), ha="center", va="center", fontsize=8,
                   color="white", weight="bold", zorder=5)
    _head(ax, lx, ly, scene.listener.yaw_deg, r_head)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set(xlabel="x (m), room frame", ylabel="y (m), room frame",
           title=f"room frame, seen from above\n{room_text}")
    ax.grid(alpha=0.3)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.12), fontsize=8, frameon=False,
              title="sources (az CCW from the nose, +90° = left; el +90° = above; distance from the head centre)",
              title_fontsize=8, alignment="left")

    # head frame: nose up, counter-clockwise azimuth so +90° (left) is on the left
    polar.set_theta_zero_location("N")
    polar.set_theta_direction(1)
    ticks = [0, 45, 90, 135, 180, -135, -90, -45]
    names = {0: "0° front", 90: "+90° left", 180: "180° back", -90: "−90° right"}
    polar.set_xticks(np.deg2rad(np.mod(ticks, 360)))  # ticks in [0, 360): negative ones would crop the plot
    polar.set_xticklabels([names.get(t, f"{t:+d}°") for t in ticks], fontsize=9)
    reach = [float(head_directions(positions_at(s, scene.listener, np.linspace(s.onset_s, s.offset_s, 64)),
                                   scene.listener)[2].max()) for s in scene.sources]
    rmax = max(reach + [1.0]) * 1.15
    polar.set_ylim(0, rmax)
    polar.set_rlabel_position(157.5)
    polar.text(np.deg2rad(150), rmax * 1.08, "distance (m)", fontsize=8, color="0.3", ha="center")
    polar.plot(0, 0, marker="^", ms=11, color="black", zorder=6)  # the head, nose up
    polar.set_title("head frame: azimuth CCW from the nose, +90° = left\n(radius = distance in m; elevations in the list)",
                    fontsize=10, pad=18)
    fig.suptitle(title or f"{scene.id} · {len(scene.sources)} source(s) · {scene.duration_s:g} s at "
                 f"{scene.sample_rate_hz} Hz · HRTF {scene.hrtf}", fontsize=12, y=1.04)
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png", bbox_inches="tight")  # keep the list below the room
    plt.close(fig)


# ------------------------------------------------------------- dataset label distributions


def _stacked_hist(ax, values: np.ndarray, groups: np.ndarray, bins) -> None:
    names = sorted(set(groups.tolist()))
    data = [values[groups == g] for g in names]
    ax.hist(data, bins=bins, stacked=True, label=[f"{g} ({len(d)})" for g, d in zip(names, data)],
            color=SPLIT_COLOURS[: len(names)] if len(names) <= len(SPLIT_COLOURS) else None, edgecolor="white", lw=0.5)
    ax.legend(title="split", fontsize=8)


def _stacked_bars(ax, keys: list, values: np.ndarray, groups: np.ndarray, horizontal: bool) -> None:
    names = sorted(set(groups.tolist()))
    base = np.zeros(len(keys))
    pos = np.arange(len(keys))
    for i, g in enumerate(names):
        counts = np.array([np.sum((values == k) & (groups == g)) for k in keys], float)
        colour = SPLIT_COLOURS[i % len(SPLIT_COLOURS)]
        if horizontal:
            ax.barh(pos, counts, left=base, color=colour, label=g)
        else:
            ax.bar(pos, counts, bottom=base, color=colour, label=g)
        base += counts
    (ax.set_yticks if horizontal else ax.set_xticks)(pos, [str(k) for k in keys])
    if horizontal:
        ax.invert_yaxis()
    ax.legend(title="split", fontsize=8)


def plot_stats(values: dict, out_dir: str | Path, name: str = "dataset") -> list[Path]:
    """One PNG per quantity of :func:`binsynth.dataset.reader.label_values`, stacked by
    split; returns the paths written."""
    plt = _pyplot()
    from binsynth.io.atomic import atomic_path
    from binsynth.qa import LEVEL_NAMES, TASKS

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    n_scenes = len(values["split"])

    def save(fig, ax, file: str, title: str) -> None:
        ax.set_title(f"{name}: {title}")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        with atomic_path(out / file) as tmp:
            fig.savefig(tmp, dpi=100, format="png")
        plt.close(fig)
        paths.append(out / file)

    src_split = values["source_split"]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    _stacked_hist(ax, values["azimuth_deg"], src_split, np.arange(-180, 181, 15))
    ax.set(xlabel="azimuth (degrees, CCW from the nose; +90 = left, −90 = right, ±180 = back)",
           ylabel="sources", xlim=(-180, 180), xticks=np.arange(-180, 181, 45))
    save(fig, ax, "azimuth.png", f"source azimuth ({len(src_split)} sources)")

    fig, ax = plt.subplots(figsize=(8, 4.5))
    el = values["elevation_deg"]
    lo = 5 * np.floor(min(el.min(initial=0), 0) / 5)
    hi = max(5 * np.ceil(max(el.max(initial=0), 0) / 5), lo + 5)
    _stacked_hist(ax, el, src_split, np.arange(lo, hi + 1e-9, 5))
    ax.set(xlabel="elevation (degrees from the horizontal plane; +90 = above)", ylabel="sources")
    save(fig, ax, "elevation.png", "source elevation")

    fig, ax = plt.subplots(figsize=(8, 4.5))
    d = values["distance_m"]
    _stacked_hist(ax, d, src_split, np.linspace(0, max(d.max(initial=1.0), 0.5) * 1.05, 25))
    ax.set(xlabel="distance from the head centre (m)", ylabel="sources")
    save(fig, ax, "distance.png", "source distance")

    labels = sorted(set(values["label"].tolist()), key=lambda k: (-np.sum(values["label"] == k), k))
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.32 * len(labels) + 1.2)))
    _stacked_bars(ax, labels, values["label"], src_split, horizontal=True)
    ax.set(xlabel="sources (count)", ylabel="class")
    save(fig, ax, "classes.png", f"source classes ({len(labels)})")

    fig, ax = plt.subplots(figsize=(8, 4.5))
    rt = values["rt60_s"]
    keep = ~np.isnan(rt)
    if keep.any():
        _stacked_hist(ax, rt[keep], values["split"][keep], 20)
    n_free = int(np.sum(~keep))
    ax.set(xlabel="RT60 at 1 kHz (s)", ylabel="scenes")
    if n_free:
        ax.text(0.98, 0.95, f"{n_free} free-field scene(s) not shown", transform=ax.transAxes, ha="right", va="top")
    save(fig, ax, "rt60.png", f"reverberation time ({int(keep.sum())} rooms)")

    fig, ax = plt.subplots(figsize=(8, 4.5))
    counts = values["n_sources"]
    keys = list(range(int(counts.min()), int(counts.max()) + 1)) if counts.size else [0]
    _stacked_bars(ax, keys, counts, values["split"], horizontal=False)
    ax.set(xlabel="sources in the scene", ylabel="scenes")
    save(fig, ax, "sources_per_scene.png", f"sources per scene ({n_scenes} scenes)")

    tasks = values["qa_task"]
    order = sorted(set(tasks.tolist()), key=lambda t: (TASKS[t].level if t in TASKS else 9, t))
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.32 * len(order) + 1.2)))
    if order:
        _stacked_bars(ax, order, tasks, values["qa_split"], horizontal=True)
        ax.set_yticks(range(len(order)), [f"{t} · L{TASKS[t].level}" if t in TASKS else t for t in order])
    ax.set(xlabel="questions (count)", ylabel="task · level (L1 perception, L2 integration, L3 reasoning)")
    save(fig, ax, "qa_tasks.png", f"QA tasks ({len(tasks)} questions)")

    fig, ax = plt.subplots(figsize=(8, 4.5))
    levels = sorted(LEVEL_NAMES)
    _stacked_bars(ax, levels, values["qa_level"], values["qa_split"], horizontal=False)
    ax.set_xticks(range(len(levels)), [f"{lv} {LEVEL_NAMES[lv]}" for lv in levels])
    ax.set(xlabel="QA level", ylabel="questions")
    save(fig, ax, "qa_levels.png", "QA levels")
    return paths
