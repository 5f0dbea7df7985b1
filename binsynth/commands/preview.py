"""``binsynth preview RECIPE --index I``: one scene of a recipe as the dataset would store it.

Writes ``OUT/{split}-{I}.wav`` (the row's FLAC audio decoded and written as WAV at the
recipe's bit depth: the same samples a shard holds), ``OUT/{split}-{I}.png`` (top view of
the room and the head frame) and ``OUT/{split}-{I}.json`` (the scene JSON), then prints
the scene and its questions. A recipe with ``output.receivers: [binaural, foa]`` also gets
``OUT/{split}-{I}.foa.wav`` (the row's ``audio_foa``: AmbiX W, Y, Z, X, SN3D).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def preview_command(
    recipe: Annotated[Path, typer.Argument(help="Recipe YAML.")],
    index: Annotated[int, typer.Option("--index", help="Scene index within the split (0-based).")],
    split: Annotated[str, typer.Option("--split", help="Split to sample the scene from.")] = "train",
    out: Annotated[Path, typer.Option("--out", help="Folder for the WAV, PNG and JSON (created).")] = Path("preview_out"),
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda")] = "cpu",
) -> None:
    """Render one scene of a recipe exactly as `binsynth render` would, and show it.

    Writes OUT/{split}-{index}.wav, .png (top view) and .json (scene), and prints the
    scene with its questions and answers."""
    import json

    from binsynth.corpora.screen import screen_corpora, without
    from binsynth.errors import ConfigError
    from binsynth.io.atomic import atomic_path, write_text_atomic
    from binsynth.io.codecs import decode, encode
    from binsynth.plots.scene import plot_scene_top
    from binsynth.recipe.model import load_recipe
    from binsynth.dataset.replay import render_scene_row
    from binsynth.scene.sampling import corpora_for, sample_scene

    spec = load_recipe(recipe)
    splits = spec.dataset.splits
    if split not in splits:
        raise ConfigError(f"--split {split!r}: not in the recipe (splits: {', '.join(sorted(splits))})")
    if not 0 <= index < splits[split]:
        last = f"0–{splits[split] - 1}" if splits[split] else "none"
        raise ConfigError(f"--index {index}: out of range; split {split!r} has {splits[split]} scenes ({last})")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder")
    # the scene the dataset renders: unusable source files are left out as `render` leaves them
    corpora = corpora_for(spec)
    corpora = without(corpora, screen_corpora(corpora), dict(splits))
    scene = sample_scene(spec, split, index, corpora)
    row = render_scene_row(spec, scene, corpora=corpora, device=device)
    audio, fs = decode(row["audio"]["bytes"], f"{scene.id} audio")

    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{split}-{index}"
    with atomic_path(stem.with_suffix(".wav")) as tmp:
        tmp.write_bytes(encode(audio, fs, "wav", spec.output.bit_depth))
    with atomic_path(stem.with_suffix(".png")) as tmp:
        plot_scene_top(scene, tmp)
    suffixes = [".wav", ".png", ".json"]
    if "audio_foa" in row:
        foa, fs = decode(row["audio_foa"]["bytes"], f"{scene.id} audio_foa")
        with atomic_path(stem.with_suffix(".foa.wav")) as tmp:
            tmp.write_bytes(encode(foa, fs, "wav", spec.output.bit_depth))
        suffixes.append(".foa.wav")
    write_text_atomic(stem.with_suffix(".json"), json.dumps(json.loads(row["scene"]), indent=2, sort_keys=True) + "\n")
    print_scene(scene, row)
    for suffix in suffixes:
        typer.echo(str(stem.with_suffix(suffix)))


def print_scene(scene, row: dict) -> None:
    """The scene (room, listener, sources) and its QA as rich tables."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from binsynth.qa import LETTERS, format_mc

    console = Console(highlight=False)
    r = scene.room
    room = ("free field (anechoic)" if r.anechoic else
            f"{' × '.join(f'{d:.2f}' for d in r.dimensions_m)} m, RT60 {r.rt60_s:.2f} s at 1 kHz")
    lis = scene.listener
    bg = scene.background
    console.print(f"[bold]{scene.id}[/bold]  {scene.duration_s:g} s at {scene.sample_rate_hz} Hz, HRTF {scene.hrtf}")
    console.print(f"room: {room}")
    console.print(f"listener: at ({', '.join(f'{p:.2f}' for p in lis.position_m)}) m, "
                  f"yaw {lis.yaw_deg:+.1f}° (CCW from +x), pitch {lis.pitch_deg:+.1f}°")
    console.print("background: " + (f"{bg['type']} noise at {bg['snr_db']:.1f} dB SNR" if bg else "none"))
    table = Table(title="sources (azimuth CCW from the nose, +90° = left)", title_justify="left")
    for col in ("#", "label", "azimuth °", "elevation °", "distance m", "onset–offset s", "gain dB"):
        table.add_column(col, justify="left" if col == "label" else "right")
    for k, s in enumerate(scene.sources):
        table.add_row(str(k + 1), escape(s.label), f"{s.azimuth_deg:+.1f}", f"{s.elevation_deg:+.1f}", f"{s.distance_m:.2f}",
                      f"{s.onset_s:.2f}–{s.offset_s:.2f}", f"{s.gain_db:+.1f}")
    console.print(table)
    for q in row["qa"]:
        console.print(f"[bold]Q[/bold] (level {q['level']}, {q['task']}): ", end="")
        if q["choices"]:
            console.print(format_mc(q["question"], q["choices"]), markup=False)
            console.print(f"[bold]A[/bold]: {LETTERS[q['answer_index']]}. {escape(q['answer'])}")
        else:
            console.print(q["question"], markup=False)
            console.print(f"[bold]A[/bold]: {escape(q['answer'])}")
