"""Rendering scenes to binaural mixtures: BRIRs, then batched FFT convolution in torch.

A scene is a room (or free field), a listener and dry mono sources placed at onsets with
gains; its mixture is Σ_sources (gain · dry shifted to its onset) ⊛ BRIR, two channels
(0 = left), cut to the scene's duration. Scenes are processed in chunks so memory stays
bounded; chunking and batch size do not change results, because every FFT size is chosen
per scene (scenes are grouped by it) and the tail noise is counter-based.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from binsynth.acoustics.brir import BRIRInfo, BRIRRequest, BRIRSynthesizer
from binsynth.acoustics.room import ShoeboxRoom
from binsynth.dsp.fft import coarse_fft_len, fast_fft_len
from binsynth.errors import ConfigError
from binsynth.dsp.memory import keep_freed_memory
from binsynth.render.motion import Keyframes, keyframes_for, window

#: Upper bound on the complex spectra held at once by one convolution chunk, bytes.
CHUNK_BYTES = 512 * 2**20
#: Keyframe responses of a moving source synthesised at once (bounds their memory).
KEYFRAMES_PER_BATCH = 256


def convolve_sum(dry: torch.Tensor, brir: torch.Tensor, n_fft: int | None = None, block: int | None = None) -> torch.Tensor:
    """Batched FFT convolution, summed over sources.

    dry:  (batch, n_src, n_samples) float32, full scale [-1, 1]
    brir: (batch, n_src, channels, n_taps); channels [left, right] for BRIRs, [W, Y, Z, X]
          for FOA impulse responses
    returns (batch, channels, n_samples + n_taps - 1)

    With ``block`` < n_samples the dry signals are cut into blocks of that many samples,
    each convolved at ``n_fft`` ≥ block + n_taps - 1 and overlap-added (a BRIR is far
    shorter than a scene, so its transform need not run at the scene's length).
    """
    return convolve_many(dry, [brir], n_fft, block)[0]


def convolve_many(dry: torch.Tensor, brirs: list[torch.Tensor], n_fft: int | None = None,
                  block: int | None = None) -> list[torch.Tensor]:
    """:func:`convolve_sum` of the same dry sources with several receivers' responses (each
    (batch, n_src, channels_r, n_taps), one n_taps for all), transforming the dry sources once."""
    n, taps = dry.shape[-1], brirs[0].shape[-1]
    n_out = n + taps - 1
    if block is None or block >= n:
        n_fft = n_fft or fast_fft_len(n_out)
        x = torch.fft.rfft(dry, n_fft, dim=-1)
        out = []
        for brir in brirs:
            h = torch.fft.rfft(brir, n_fft, dim=-1)
            y = x[:, 0, None] * h[:, 0]
            for s in range(1, dry.shape[1]):
                y += x[:, s, None] * h[:, s]
            out.append(torch.fft.irfft(y, n_fft, dim=-1)[..., :n_out])
        return out
    if n_fft is None or n_fft < block + taps - 1:
        raise ConfigError(f"n_fft {n_fft}: must be at least block + n_taps - 1 = {block + taps - 1}")
    batch, n_src = dry.shape[:2]
    n_blocks = -(-n // block)
    if n < n_blocks * block:  # callers can hand in dry signals already padded to whole blocks
        dry = torch.nn.functional.pad(dry, (0, n_blocks * block - n))
    x = torch.fft.rfft(dry.reshape(batch, n_src, n_blocks, block), n_fft, dim=-1)  # (B, S, blocks, F)
    out = []
    for brir in brirs:
        h = torch.fft.rfft(brir, n_fft, dim=-1)  # (B, S, C, F)
        y = x[:, 0, None] * h[:, 0, :, None]
        for s in range(1, n_src):  # accumulate in place: no (B, S, C, blocks, F) temporary
            y += x[:, s, None] * h[:, s, :, None]
        y = torch.fft.irfft(y, n_fft, dim=-1)  # (B, C, blocks, n_fft)
        total = torch.zeros(batch, brir.shape[2], (n_blocks - 1) * block + n_fft, dtype=y.dtype, device=y.device)
        for k in range(n_blocks):  # overlap-add; a few large slices beat fold/col2im
            total[..., k * block : k * block + n_fft] += y[:, :, k]
        out.append(total[..., :n_out])
    return out


def plan_convolution(n: int, taps: int, n_src: int) -> tuple[int, int, int]:
    """(padded BRIR length, FFT size, block) for one scene; a function of its own sizes only.

    The BRIR length is rounded up to a coarse FFT size so scenes share batches; the FFT
    size minimises a cost model of the transforms, Σ (count × L log2 L): per block n_src
    forward and 2 inverse, plus 2 n_src BRIR transforms.
    """
    taps_q = coarse_fft_len(taps)
    full = coarse_fft_len(n + taps_q - 1)
    best = (2 * n_src + n_src + 2) * full * np.log2(full), full, n
    size = coarse_fft_len(2 * taps_q)
    while size < full:
        block = size - taps_q + 1
        n_blocks = -(-n // block)
        cost = (n_blocks * (n_src + 2) + 2 * n_src) * size * np.log2(size)
        if cost < best[0]:
            best = cost, size, block
        size = coarse_fft_len(size + 1)
    return taps_q, best[1], best[2]


@dataclass
class Source:
    """A dry mono source. signal: (n,) float32 at the scene's rate; position in the room frame, metres.

    keyframes: for a moving source, its positions along its path (:mod:`binsynth.render.motion`;
    build one with :meth:`moving`); ``position_m`` is then its middle keyframe's.
    """

    signal: np.ndarray
    position_m: np.ndarray
    onset_s: float = 0.0
    gain_db: float = 0.0
    keyframes: Keyframes | None = None

    @classmethod
    def moving(cls, signal: np.ndarray, fs_hz: int, position_at: Callable[[float], np.ndarray], *,
               onset_s: float = 0.0, gain_db: float = 0.0) -> "Source":
        """A source whose room-frame position at clip time ``t`` seconds is ``position_at(t)``."""
        x = np.asarray(signal, dtype=np.float32)
        frames = keyframes_for(x.size, fs_hz, onset_s, position_at)
        return cls(x, frames.reference, onset_s=onset_s, gain_db=gain_db, keyframes=frames)


@dataclass
class Scene:
    """What the renderer needs for one mixture. Angles in degrees, lengths in metres."""

    room: ShoeboxRoom | None
    listener_m: np.ndarray
    sources: list[Source]
    duration_s: float
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def requests(self) -> list[BRIRRequest]:
        """One request per source: its BRIR, or for a moving source its diffuse tail alone
        (at its middle keyframe; the transition time is set by :meth:`keyframe_requests`)."""
        if len(self.sources) > 1024:  # the tail key is seed * 1024 + index
            raise ConfigError(f"{len(self.sources)} sources in one scene: at most 1024")
        return [
            BRIRRequest(self.room, self.listener_m, s.position_m, self.yaw_deg, self.pitch_deg, seed=self.seed * 1024 + k,
                        early=s.keyframes is None)
            for k, s in enumerate(self.sources)
        ]

    def keyframe_requests(self, k: int) -> list[BRIRRequest]:
        """The early parts (no tail) of moving source ``k`` at its keyframes."""
        s = self.sources[k]
        return [BRIRRequest(self.room, self.listener_m, p, self.yaw_deg, self.pitch_deg, seed=self.seed * 1024 + k,
                            tail=False) for p in s.keyframes.positions_m]


def place_sources(scene: Scene, fs_hz: int) -> np.ndarray:
    """(n_src, n_samples) float32: each dry source scaled by its gain and shifted to its onset."""
    n = int(round(scene.duration_s * fs_hz))
    out = torch.zeros((len(scene.sources), n), dtype=torch.float32)
    place_into(out, scene, fs_hz)
    return out.numpy()


def place_into(dst: torch.Tensor, scene: Scene, fs_hz: int) -> None:
    """Write the scene's sources, scaled and shifted, into the zeroed rows of ``dst``
    ((n_src, ≥ n_samples), on any device): only the sources' own samples cross to the
    device, not a zero-padded host copy of the whole batch."""
    n = int(round(scene.duration_s * fs_hz))
    for k, s in enumerate(scene.sources):
        start = int(round(s.onset_s * fs_hz))
        if start >= n:
            continue
        sig = np.asarray(s.signal, dtype=np.float32)[: n - start] * np.float32(10.0 ** (s.gain_db / 20.0))
        dst[k, start : start + sig.size] = torch.from_numpy(sig)


class Renderer:
    """Renders scenes on one device with one receiver (a :class:`BRIRSynthesizer` and its HRTF
    set, or an FOA synthesiser) and one sample rate."""

    def __init__(self, synth: BRIRSynthesizer, chunk_scenes: int = 16):
        if chunk_scenes < 1:
            raise ConfigError(f"chunk_scenes {chunk_scenes}: must be >= 1")
        keep_freed_memory()
        self.synth = synth
        self.fs_hz = synth.fs_hz
        self.device = synth.device
        self.chunk_scenes = chunk_scenes

    def render(self, scenes: list[Scene], progress=None) -> tuple[list[np.ndarray], list[list[BRIRInfo]]]:
        """Mixtures (channels, duration samples) float32 — (2, n) binaural, (4, n) FOA — and the
        impulse responses' infos of every source, in input order.

        ``progress``: optional callable ``advance(n_scenes)``.
        """
        (mixes,), infos = self.render_all(scenes, progress=progress)
        return mixes, infos

    def render_all(self, scenes: list[Scene], others: tuple = (), progress=None):
        """:meth:`render` heard by this renderer's receiver and by ``others`` (synthesisers at
        the same rate on the same device, e.g. an FOA one beside a binaural one) at once: the
        image sources, dry placement and dry transforms are shared. Returns one list of
        mixtures per receiver (this one first) and this receiver's infos. Each receiver's
        mixtures are those it renders alone (≤ 1e-6), and this receiver's are the same bytes
        unless another receiver's responses are longer than its own padded length."""
        synths = [self.synth, *others]
        for other in others:
            if other.fs_hz != self.fs_hz or torch.device(other.device) != torch.device(self.device):
                raise ConfigError(f"a receiver at {other.fs_hz} Hz on {other.device} beside one at {self.fs_hz} Hz "
                                  f"on {self.device}: receivers rendered together share rate and device")
        mixes: list[list[np.ndarray | None]] = [[None] * len(scenes) for _ in synths]
        infos: list[list[BRIRInfo] | None] = [None] * len(scenes)
        for start in range(0, len(scenes), self.chunk_scenes):
            idx = list(range(start, min(start + self.chunk_scenes, len(scenes))))
            chunk_mix, chunk_info = self._render_chunk([scenes[i] for i in idx], synths)
            for j, i in enumerate(idx):
                infos[i] = chunk_info[j]
                for r in range(len(synths)):
                    mixes[r][i] = chunk_mix[r][j]
            if progress is not None:
                progress(len(idx))
        return mixes, infos

    def _render_chunk(self, scenes: list[Scene], synths: list):
        reqs, slots = [], np.full((len(scenes), max(len(sc.sources) for sc in scenes)), -1, dtype=np.int64)
        for j, sc in enumerate(scenes):
            if not sc.sources:
                raise ConfigError(f"scene {j}: has no sources")
            for k, r in enumerate(sc.requests()):
                slots[j, k] = len(reqs)
                reqs.append(r)
        moving = self._plan_keyframes(scenes, reqs, slots)
        images = self.synth.early_images(reqs) if len(synths) > 1 else None
        brirs, lengths, binfo = [], [], None
        for synth in synths:
            b, length, info = synth.synthesize_batch(reqs, images)
            # a zero BRIR at the end stands in for the missing sources of smaller scenes
            brirs.append(torch.cat([b, b.new_zeros(1, *b.shape[1:])]))
            lengths.append(length)
            binfo = info if binfo is None else binfo
        longest = np.max(lengths, axis=0)
        groups: dict[tuple[int, int, int, int, int], list[int]] = {}
        for j, sc in enumerate(scenes):
            n = int(round(sc.duration_s * self.fs_hz))
            n_src = len(sc.sources)
            taps = int(longest[slots[j, :n_src]].max())
            groups.setdefault((n, n_src, *plan_convolution(n, taps, n_src)), []).append(j)
        out: list[list[np.ndarray | None]] = [[None] * len(scenes) for _ in synths]
        for (n, n_src, taps, n_fft, block), members in groups.items():
            n_blocks = -(-n // block)
            extra = sum(len(synth.channels) for synth in synths) - 2  # output spectra beyond a binaural pair
            per_item = (n_src * (n_blocks + 4) + max(0, extra) * n_blocks) * (n_fft // 2 + 1) * 8
            step = max(1, CHUNK_BYTES // per_item)
            for s0 in range(0, len(members), step):
                part = members[s0 : s0 + step]
                width = n_blocks * block if block < n else n
                dry = torch.zeros((len(part), n_src, width), dtype=torch.float32, device=self.device)
                for b, j in enumerate(part):
                    place_into(dry[b], scenes[j], self.fs_hz)
                index = torch.as_tensor(slots[part, :n_src], device=self.device)
                hs = []
                for brir in brirs:
                    h = brir[index, :, :taps]  # (B, S, C, taps); every BRIR here is at most `taps` long
                    if h.shape[-1] < taps:
                        h = torch.nn.functional.pad(h, (0, taps - h.shape[-1]))
                    hs.append(h)
                ys = [y[..., :n] for y in convolve_many(dry, hs, n_fft, block)]
                for b, j in enumerate(part):
                    for k, requests in moving.get(j, ()):
                        self._add_keyframes([y[b] for y in ys], dry[b, k, :n], scenes[j].sources[k].keyframes,
                                            requests, synths)
                for r, y in enumerate(ys):
                    y = y.cpu().numpy()
                    for b, j in enumerate(part):
                        out[r][j] = y[b]
        return out, [[binfo[k] for k in slots[j, : len(sc.sources)]] for j, sc in enumerate(scenes)]

    def _plan_keyframes(self, scenes: list[Scene], reqs: list[BRIRRequest], slots: np.ndarray) -> dict:
        """Give every moving source one transition time — the latest of its keyframes', so each
        first-order reflection stays geometric — set on its tail request and its keyframes'
        requests. Returns scene -> [(source, its keyframe requests)]."""
        moving = {}
        for j, sc in enumerate(scenes):
            for k, s in enumerate(sc.sources):
                if s.keyframes is not None:
                    requests = sc.keyframe_requests(k)
                    t = self.synth.transition_times(requests)
                    shared = None if np.isnan(t).all() else float(np.nanmax(t))
                    for r in [reqs[slots[j, k]], *requests]:
                        r.transition_s = shared
                    moving.setdefault(j, []).append((k, requests))
        return moving

    def _add_keyframes(self, mixes: list[torch.Tensor], placed: torch.Tensor, frames: Keyframes,
                       requests: list[BRIRRequest], synths: list) -> None:
        """Add Σ_i (w_i · placed) ⊛ e_i to each receiver's mix (C, n): the early parts of a moving
        source (``requests``, one per keyframe), each on its 2-hop window around its keyframe,
        overlap-added; synthesised :data:`KEYFRAMES_PER_BATCH` at a time, so memory does not
        grow with the clip."""
        hop, n = frames.hop, placed.shape[-1]
        inside = np.flatnonzero(frames.centres - hop < n)  # windows past the clip's end hear nothing
        requests = [requests[i] for i in inside]
        frames = Keyframes(frames.centres[inside], frames.positions_m[inside], hop)
        padded = torch.nn.functional.pad(placed, (3 * hop, 3 * hop))
        win = torch.as_tensor(window(hop), dtype=torch.float32, device=self.device)
        for first in range(0, len(requests), KEYFRAMES_PER_BATCH):
            count = min(KEYFRAMES_PER_BATCH, len(requests) - first)
            batch = requests[first : first + count]
            images = synths[0].early_images(batch) if len(synths) > 1 else None
            centres = frames.centres[first : first + count]
            idx = torch.as_tensor(centres - hop + 3 * hop, device=self.device)[:, None] + torch.arange(2 * hop, device=self.device)
            segs = padded[idx] * win  # each window's samples (zero outside the clip)
            spectra: dict[int, torch.Tensor] = {}
            for synth, mix in zip(synths, mixes):
                irs, lengths, _ = synth.synthesize_batch(batch, images)
                taps = int(lengths.max())
                n_fft = fast_fft_len(2 * hop + taps - 1)
                if n_fft not in spectra:
                    spectra[n_fft] = torch.fft.rfft(segs, n_fft)
                y = torch.fft.irfft(spectra[n_fft][:, None] * torch.fft.rfft(irs[..., :taps], n_fft), n_fft)
                c = y.shape[1]
                length = (count - 1) * hop + n_fft
                total = torch.nn.functional.fold(y.permute(1, 2, 0).reshape(1, c * n_fft, count), (1, length),
                                                 (1, n_fft), stride=(1, hop)).reshape(c, length)
                lo = int(centres[0]) - hop
                a, b = max(0, lo), min(n, lo + length)
                if b > a:
                    mix[:, a:b] += total[:, a - lo : b - lo]
