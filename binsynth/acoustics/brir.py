"""Binaural room impulse responses, synthesised for a batch of requests at once.

A BRIR (2, n_taps) — channel 0 = left ear, sample 0 = the moment the source emits — is

* an **early part**: every image source (see :mod:`binsynth.acoustics.images`) that
  arrives before the transition time, each rendered with the HRIR of *its own* arrival
  direction in the head frame, at its exact fractional delay r / c, with 1/r spreading,
  its octave-band wall losses and ISO 9613-1 air absorption; plus
* a **diffuse tail** from the transition time on (:mod:`binsynth.acoustics.tail`) that
  carries the room's octave-band decay to below -60 dB, with the set's diffuse-field
  spectrum and interaural coherence, and the image model's expected energy, so the two
  parts join without a step.

The transition time is the later of Lindau's perceptual mixing time (20 V/S + 12 ms) and
the latest first-order reflection, so every first-order reflection is geometric. Early
images fade out and the tail fades in over ``FADE_S`` with power-complementary
(cos/sin) weights. An anechoic request is the direct path alone; a request with
``max_order`` set and ``tail=False`` is the classic image-source model of that order.

Everything runs in torch on the requested device; results do not depend on how requests
are batched (FFT sizes are chosen per request, and the tail noise is counter-based).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from binsynth.acoustics.bands import band_masks
from binsynth.acoustics.hrtf import HRTFSet
from binsynth.acoustics.images import enumerate_images
from binsynth.acoustics.lookup import direction_index
from binsynth.acoustics.room import ShoeboxRoom
from binsynth.acoustics.tail import diffuse_tail
from binsynth.constants import AIR_ENERGY_ATTENUATION_PER_M, SPEED_OF_SOUND_M_S
from binsynth.errors import ConfigError, GeometryError
from binsynth.geometry import cart_to_sph, head_axes
from binsynth.dsp.memory import keep_freed_memory

#: Cross-fade length between the early part and the tail, seconds.
FADE_S = 0.005
#: Edge ramps of the window that matches the tail to the image model, as a share of its length.
TAIL_MATCH_RAMP = 0.25
#: The BRIR runs this many times the longest octave-band RT60 (-66 dB at its end).
TAIL_LENGTH_RT60 = 1.1
#: Closest a source may be to the head centre, metres (far-field HRTFs; the early buffer
#: starts this much before the direct sound at most).
MIN_DISTANCE_M = 0.2
#: Image spectra computed at once in the early part (bounds its memory), complex bins.
IMAGE_CHUNK_BINS = 1 << 22
#: Largest transition time, seconds: beyond it image counts explode without audible gain.
MAX_TRANSITION_S = 0.25


@dataclass
class BRIRRequest:
    """One source–listener pair. Positions in the room frame, metres; angles in degrees.

    room: a :class:`ShoeboxRoom`, or None for free field (direct path only).
    seed: key of the tail's noise (scene seed and source index, typically).
    max_order: cap on reflection order; None = every image before the transition time.
    tail: add the diffuse tail (ignored in free field).
    air_absorption: overrides the room's setting in free field.
    early: keep the early part (False: the tail alone, still level-matched to this
           position's reflections; a moving source's tail, see :mod:`binsynth.render.motion`).
    transition_s: the transition time to use instead of this position's own (a moving
           source's keyframes share one, so its early parts and its one tail join).
    """

    room: ShoeboxRoom | None
    listener_m: np.ndarray
    source_m: np.ndarray
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    seed: int = 0
    max_order: int | None = None
    tail: bool = True
    air_absorption: bool = True
    early: bool = True
    transition_s: float | None = None

    def __post_init__(self):
        self.listener_m = np.asarray(self.listener_m, dtype=np.float64)
        self.source_m = np.asarray(self.source_m, dtype=np.float64)
        if self.room is not None:
            self.room.check_inside(self.listener_m, "listener")
            self.room.check_inside(self.source_m, "source")
        dist = float(np.linalg.norm(self.source_m - self.listener_m))
        if not dist >= MIN_DISTANCE_M:
            raise GeometryError(f"source {dist:.3g} m from the head centre; it must be at least {MIN_DISTANCE_M} m away")
        if self.max_order is not None and self.max_order < 0:
            raise ConfigError(f"max_order {self.max_order}: must be >= 0")


@dataclass
class BRIRInfo:
    """What was used to build one BRIR (goes into sidecars and dataset rows)."""

    n_taps: int
    fs_hz: int
    azimuth_deg: float
    elevation_deg: float
    distance_m: float
    direct_delay_s: float
    transition_s: float | None
    image_order: int
    n_images: int
    rt60_s: list[float] | None
    rt60_target_s: float | None
    hrtf_name: str
    hrtf_sha256: str
    interpolation: str
    tail_match_db: list[float] | None = None
    extra: dict = field(default_factory=dict)


def _match_window(t, start, end, ramp, cos):
    """Weight of the tail-matching window at times ``t`` (numpy arrays or torch tensors, with
    their ``cos``): 1 inside, raised-cosine edges ``ramp`` long, 0 outside [start, end]. The
    measured reflections and the expected energy are weighted by this one window."""
    up = ((t - start) / ramp).clip(0.0, 1.0)
    down = ((end - t) / ramp).clip(0.0, 1.0)
    return (0.5 - 0.5 * cos(np.pi * up)) * (0.5 - 0.5 * cos(np.pi * down))


@dataclass
class EarlyImages:
    """Early image sources of a batch of requests (see :meth:`BRIRSynthesizer.early_images`):
    per image its request, order, head-frame arrival direction (float32 unit vector), octave-band
    pressure gains (7, with the fade into the tail) and delay (samples from emission, at
    ``fs_hz``); per request the tail's level match (dB, 7 bands), image count and top order."""

    req: torch.Tensor
    order: torch.Tensor
    unit: torch.Tensor
    gain: torch.Tensor
    delay: torch.Tensor
    tail_db: np.ndarray
    n_images: np.ndarray
    top: np.ndarray
    fs_hz: int

    def stats(self, i: int) -> dict:
        return dict(n_images=int(self.n_images[i]), order=int(self.top[i]), tail_match_db=self.tail_db[i])


class BRIRSynthesizer:
    """Builds BRIRs from one HRTF set at one sample rate on one device.

    interpolation: "nearest" (every image uses the nearest measured direction), "interp"
    (the direct sound uses the onset-aligned blend of the three nearest directions, see
    :mod:`binsynth.acoustics.hrtf`; reflections use the nearest, as pyroomacoustics does —
    a few degrees on a reflection are inaudible, and it saves two thirds of the spectra
    gathered) or "interp-all" (every image is blended).
    """

    #: Output channels, in order (a subclass may render another receiver from the same images).
    channels: tuple[str, ...] = ("left", "right")

    def __init__(self, hrtf: HRTFSet, fs_hz: int, device: str | torch.device = "cpu", interpolation: str = "interp"):
        if interpolation not in ("nearest", "interp", "interp-all"):
            raise ConfigError(f"interpolation {interpolation!r}: expected 'nearest', 'interp' or 'interp-all'")
        self._setup(fs_hz, device, interpolation)
        self.hrtf = hrtf.resampled(fs_hz)
        self.receiver_name, self.receiver_sha256 = self.hrtf.name, self.hrtf.sha256
        self._units = torch.as_tensor(self.hrtf.unit_vectors, dtype=torch.float32, device=self.device)
        self._units_padded = torch.cat([self._units, self._units.new_zeros(1, 3)])  # row M pads short lists
        self._index = direction_index(self.hrtf.unit_vectors, self.hrtf.sha256, self.device)
        self._ear_delays = torch.as_tensor(self.hrtf.ear_delays_samples, dtype=torch.float64, device=self.device)
        self._aligned = torch.as_tensor(self.hrtf.aligned_irs(self.lead), device=self.device)
        self._spectra: dict[int, torch.Tensor] = {}

    def _setup(self, fs_hz: int, device: str | torch.device, interpolation: str) -> None:
        keep_freed_memory()
        self.fs_hz = int(fs_hz)
        self.device = torch.device(device)
        self.interpolation = interpolation
        self.lead = max(8, int(round(0.0005 * self.fs_hz)))  # aligned onsets sit here
        self.pre = 2 * self.lead  # early buffer starts this many samples before t = 0

    def _spread_samples(self) -> int:
        """How far an image's response reaches past its delay, samples (sizes the early FFT)."""
        return self.hrtf.n_taps + int(0.010 * self.fs_hz) + int(np.ceil(np.abs(self.hrtf.ear_delays_samples).max()))

    # -- planning (numpy, vectorised over requests) ----------------------------------------
    def _plan_all(self, requests: list[BRIRRequest]) -> list[dict]:
        """Per request: direction, transition time, image cut-offs, FFT size and BRIR length."""
        fs, c = self.fs_hz, SPEED_OF_SOUND_M_S
        big = 10**6
        src = np.stack([r.source_m for r in requests])
        lst = np.stack([r.listener_m for r in requests])
        rel = src - lst
        dist = np.linalg.norm(rel, axis=1)
        axes = head_axes([r.yaw_deg for r in requests], [r.pitch_deg for r in requests])
        az, el, _ = cart_to_sph((axes * rel[:, None, :]).sum(-1))
        has_room = np.array([r.room is not None for r in requests])
        fixed = np.array([r.max_order is not None for r in requests])
        order = np.array([r.max_order if r.max_order is not None else 0 for r in requests])
        dims = np.stack([r.room.dimensions_m if r.room is not None else np.ones(3) for r in requests])
        mixing = np.array([r.room.mixing_time_s if r.room is not None else 0.0 for r in requests])
        # the six first-order reflections: mirror the source in each wall
        first = np.zeros(len(requests))
        for axis in range(3):
            others = np.delete(rel, axis, axis=1)
            for wall in (np.zeros(len(requests)), dims[:, axis]):
                along = 2 * wall - src[:, axis] - lst[:, axis]
                first = np.maximum(first, np.sqrt((others**2).sum(1) + along**2))
        transition = np.minimum(np.maximum(mixing, first / c + FADE_S / 2), MAX_TRANSITION_S)
        forced = [i for i, r in enumerate(requests) if r.transition_s is not None]
        transition[forced] = [requests[i].transition_s for i in forced]
        faded = has_room & ~fixed  # every image before the transition, faded out across it
        max_order = np.where(~has_room, 0, np.where(fixed, order, big))
        max_path = np.where(faded, c * (transition + FADE_S / 2), np.inf)
        # an image of order N is at most N + 1 lengths away along one axis, plus a diagonal
        horizon = np.where(
            ~has_room, dist,
            np.where(fixed, (order + 1) * dims.max(1) + np.linalg.norm(dims, axis=1), max_path),
        )
        spread = self._spread_samples()
        nfft_early = 1 << np.ceil(np.log2(self.pre + horizon / c * fs + spread)).astype(np.int64)
        reverberant = faded & np.array([r.tail for r in requests])
        rt60 = [r.room.rt60_s if r.room is not None else None for r in requests]
        n_taps = nfft_early - self.pre
        for i in np.flatnonzero(reverberant):
            n_taps[i] = max(n_taps[i], int(np.ceil(TAIL_LENGTH_RT60 * rt60[i].max() * fs)))
        return [
            dict(
                az=float(az[i]), el=float(el[i]), dist=float(dist[i]), max_path=float(max_path[i]),
                max_order=int(max_order[i]), transition=float(transition[i]) if faded[i] else None,
                nfft_early=int(nfft_early[i]), n_taps=int(n_taps[i]), reverberant=bool(reverberant[i]),
                rt60=rt60[i],
            )
            for i in range(len(requests))
        ]

    def transition_times(self, requests: list[BRIRRequest]) -> np.ndarray:
        """Each request's transition time, seconds (NaN without a tail: free field, a fixed order)."""
        return np.array([np.nan if p["transition"] is None else p["transition"] for p in self._plan_all(requests)])

    def _hrtf_spectra(self, nfft: int) -> torch.Tensor:
        if nfft not in self._spectra:
            self._spectra[nfft] = torch.fft.rfft(self._aligned, nfft, dim=-1)
        return self._spectra[nfft]

    # -- synthesis ------------------------------------------------------------------------
    def synthesize(self, requests: list[BRIRRequest]) -> tuple[list[torch.Tensor], list[BRIRInfo]]:
        """BRIRs (one (2, n_taps) float32 tensor on the device per request) and their infos."""
        batch, lengths, infos = self.synthesize_batch(requests)
        return [batch[i, :, :n] for i, n in enumerate(lengths)], infos

    def synthesize_batch(self, requests: list[BRIRRequest], images: "EarlyImages | None" = None
                         ) -> tuple[torch.Tensor, np.ndarray, list[BRIRInfo]]:
        """All BRIRs in one zero-padded tensor (R, 2, max n_taps) on the device, their lengths, infos.

        Whole groups are written with one indexed copy each, so the number of device
        operations does not grow with the number of requests. ``images``: the requests'
        early images from :meth:`early_images` of any receiver on this device (receivers of one
        scene share them: the image sources do not depend on what listens).
        """
        plans = self._plan_all(requests)
        lengths = np.array([p["n_taps"] for p in plans], dtype=np.int64)
        batch = torch.zeros(len(requests), len(self.channels), int(lengths.max(initial=1)), dtype=torch.float32,
                            device=self.device)
        geo = images if images is not None else self.early_images(requests, plans)
        infos = [self._info(r, p, geo.stats(i)) for i, (r, p) in enumerate(zip(requests, plans))]
        tail_db = geo.tail_db
        for nfft_early, idx in _group(plans, "nfft_early").items():
            idx = [i for i in idx if requests[i].early]  # a tail-only request (a moving source's) has none
            if not idx:
                continue
            early = self._early(geo, idx, nfft_early)
            # n_taps >= the early buffer for every request (see _plan), so it fits whole
            batch[torch.as_tensor(idx, device=self.device), :, : early.shape[-1]] = early
        idx = [i for i, p in enumerate(plans) if p["reverberant"]]
        if idx:
            reqs = [requests[i] for i in idx]
            tails = self._tail(
                fs_hz=self.fs_hz,
                decay_rate_per_s=np.stack([r.room.decay_rate_per_s for r in reqs]),
                volume_m3=np.array([r.room.volume_m3 for r in reqs]),
                transition_s=np.array([plans[i]["transition"] for i in idx]),
                fade_s=FADE_S,
                n_taps=lengths[idx],
                seeds=[r.seed for r in reqs],
                level_db=tail_db[idx],
                device=self.device,
            )
            batch[torch.as_tensor(idx, device=self.device), :, : tails.shape[-1]] += tails
        return batch, lengths, infos

    def _tail(self, **kw) -> torch.Tensor:
        """Diffuse tails (R, channels, n) of the reverberant requests (:func:`diffuse_tail`'s keywords)."""
        return diffuse_tail(hrtf=self.hrtf, **kw)

    def early_images(self, requests: list[BRIRRequest], plans: list[dict] | None = None) -> "EarlyImages":
        """The early image sources of ``requests`` — arrival direction, delay, octave-band gains
        with the fade into the tail — and the tail's level match, for every request at once.

        Requests are enumerated in families that bound their images alike (faded rooms by
        path length, fixed orders by order, free field), so one family's bound never
        inflates another's search; each request's images come out in one order, whatever
        it is batched with."""
        plans = plans if plans is not None else self._plan_all(requests)
        families: dict[tuple[bool, bool], list[int]] = {}
        for i, r in enumerate(requests):
            families.setdefault((r.room is None, r.max_order is not None), []).append(i)
        parts = [(idx, self._images([requests[i] for i in idx], [plans[i] for i in idx])) for idx in families.values()]
        if len(parts) == 1:
            return parts[0][1]
        n = len(requests)
        tail_db, n_images, top = np.zeros((n, 7)), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        fields = []
        for idx, geo in parts:
            where = torch.as_tensor(idx, device=geo.req.device)
            fields.append((where[geo.req], geo.order, geo.unit, geo.gain, geo.delay))
            tail_db[idx], n_images[idx], top[idx] = geo.tail_db, geo.n_images, geo.top
        req, order, unit, gain, delay = (torch.cat(f) for f in zip(*fields))
        ranked = torch.sort(req, stable=True).indices  # by request, each request's images in order
        return EarlyImages(req[ranked], order[ranked], unit[ranked], gain[ranked], delay[ranked], tail_db, n_images, top,
                           self.fs_hz)

    def _images(self, requests: list[BRIRRequest], plans: list[dict]) -> "EarlyImages":
        dev = self.device
        f64 = dict(dtype=torch.float64, device=dev)
        rooms = [r.room for r in requests]
        dims = torch.tensor(np.stack([rm.dimensions_m if rm is not None else np.ones(3) for rm in rooms]), **f64)
        src = torch.tensor(np.stack([r.source_m for r in requests]), **f64)
        lst = torch.tensor(np.stack([r.listener_m for r in requests]), **f64)
        free = [rm is None for rm in rooms]
        if any(free):  # free field: the "room" is a box around both points (room requests stay as they are)
            is_free = torch.tensor(free, device=dev)[:, None]
            lo = torch.where(is_free, torch.minimum(src, lst) - 1.0, torch.zeros_like(src))
            src, lst = src - lo, lst - lo
            dims = torch.where(is_free, torch.maximum(src, lst) + 1.0, dims)
        imgs = enumerate_images(
            dims, src, lst,
            torch.tensor([p["max_path"] for p in plans], **f64),
            torch.tensor([p["max_order"] for p in plans], dtype=torch.int64, device=dev),
        )
        req = imgs.request
        rel = imgs.position_m - lst[req]
        axes = torch.tensor(head_axes([r.yaw_deg for r in requests], [r.pitch_deg for r in requests]), **f64)
        local = (axes[req] * rel[:, None, :]).sum(-1)  # elementwise: no batch-size-dependent GEMM
        dist = torch.linalg.norm(local, dim=1)
        unit = (local / dist[:, None]).to(torch.float32)

        # octave-band pressure gains: wall reflections and air, then 1/r spreading
        log_refl = torch.tensor(np.stack([rm.log_reflection if rm is not None else np.zeros((6, 7)) for rm in rooms]), **f64)
        air_m = torch.tensor(
            np.stack([
                (rm.air_attenuation_per_m if rm is not None else (AIR_ENERGY_ATTENUATION_PER_M if r.air_absorption else np.zeros(7)))
                for rm, r in zip(rooms, requests)
            ]),
            **f64,
        )
        log_gain = (imgs.counts.to(torch.float64)[:, :, None] * log_refl[req]).sum(1) - 0.5 * air_m[req] * dist[:, None]
        gain = torch.exp(log_gain) / dist[:, None]
        delay = dist / SPEED_OF_SOUND_M_S * self.fs_hz  # samples from emission
        trans = torch.tensor([p["transition"] if p["transition"] is not None else np.inf for p in plans], **f64)[req]
        s = ((delay / self.fs_hz - (trans - FADE_S / 2)) / FADE_S).clamp(0.0, 1.0)
        weight = torch.where(imgs.order == 0, torch.ones_like(s), torch.cos(0.5 * torch.pi * s))
        # the level match only where a tail follows (keyframes of moving sources have none)
        match = torch.tensor([p["transition"] if p["reverberant"] else np.inf for p in plans], **f64)[req]
        tail_db = self._tail_match_db(req, imgs.order, delay / self.fs_hz, gain, match, rooms, len(requests))
        order = imgs.order
        n_images = torch.bincount(req, minlength=len(requests)).cpu().numpy()
        top = torch.zeros(len(requests), dtype=order.dtype, device=dev).scatter_reduce_(0, req, order, "amax").cpu().numpy()
        return EarlyImages(req, order, unit, gain * weight[:, None], delay, tail_db, n_images, top, self.fs_hz)

    def _early(self, geo: "EarlyImages", idx: list[int], nfft: int) -> torch.Tensor:
        """Early buffers (len(idx), channels, nfft - pre) of requests ``idx``, their images in order."""
        if geo.fs_hz != self.fs_hz:
            raise ConfigError(f"early images at {geo.fs_hz} Hz for a receiver at {self.fs_hz} Hz")
        req, order, unit, gain, delay = geo.req, geo.order, geo.unit, geo.gain, geo.delay
        if len(idx) != len(geo.tail_db) or idx != list(range(len(idx))):
            local = torch.full((len(geo.tail_db),), -1, dtype=req.dtype, device=req.device)
            local[torch.as_tensor(idx, device=req.device)] = torch.arange(len(idx), device=req.device)
            local = local[req]
            keep = (local >= 0).nonzero().squeeze(1)  # in order: each request's images as enumerated
            req, order, unit, gain, delay = local[keep], order[keep], unit[keep], gain[keep], delay[keep]
        acc = self._accumulate(req, order, unit, gain, delay, nfft, len(idx))
        return torch.fft.irfft(acc, nfft, dim=-1)[..., self.pre :]

    def _accumulate(self, req, order, unit, gain, delay, nfft: int, n_req: int) -> torch.Tensor:
        """Sum of every image's response: (R, channels, nfft // 2 + 1) complex64 spectra of the
        early buffer, which starts ``pre`` samples before emission.

        req, order: (K,) request index and reflection order of each image; unit: (K, 3) float32
        arrival direction in the head frame; gain: (K, 7) float64 octave-band pressure gains
        (walls, air, 1/r, fade-out); delay: (K,) float64 samples from emission.
        """
        dev = self.device
        # HRTF lookup (unit vectors on the set's grid)
        idx, w = self._lookup(unit)
        if self.interpolation == "interp":  # blend the direct sound only
            w = torch.where((order == 0)[:, None], w, torch.tensor([1.0, 0.0, 0.0], device=dev))
        spectra = self._hrtf_spectra(nfft)  # (M, 2, F) aligned HRTFs
        ear_delay = (self._ear_delays[idx] * w[..., None].to(torch.float64)).sum(1)  # (K, 2)
        total = delay[:, None] + ear_delay - self.lead + self.pre  # samples in the early buffer
        n_bins = nfft // 2 + 1
        masks = torch.tensor(band_masks(nfft, float(self.fs_hz)), dtype=torch.float32, device=dev)
        gain32 = gain.to(torch.float32)
        acc = torch.zeros(n_req, 2, n_bins, dtype=torch.complex64, device=dev)
        step = max(1, IMAGE_CHUNK_BINS // (2 * n_bins))
        for s0 in range(0, len(req), step):
            sl = slice(s0, s0 + step)
            spec = spectra[idx[sl, 0]]  # nearest direction
            blend = (w[sl, 0] < 1.0).nonzero().squeeze(1)
            if blend.numel():  # onset-aligned blend where asked for
                spec[blend] = (spectra[idx[sl][blend]] * w[sl][blend][:, :, None, None].to(spectra.dtype)).sum(1)
            shift = _delay_phasors(total[sl], nfft, n_bins)  # (k, 2, F) exact e^{-2πi f τ}
            # zero-phase octave-band response; a matrix product (its rounding may move by an
            # ulp with the batch size, far inside the tolerance batching is held to)
            shift *= (gain32[sl] @ masks)[:, None, :]
            # through a real view: index_add_ on complex tensors is not on every device
            torch.view_as_real(acc).index_add_(0, req[sl], torch.view_as_real(spec * shift))
        return acc

    def _tail_match_db(self, req, order, arrival_s, gain, trans, rooms, n_req) -> np.ndarray:
        """(R, 7) dB to add to each band of the tail so it continues the image model's energy.

        The tail's level is the diffuse-field expectation (4π c / V) e^{-δ t}. A specular
        shoebox image model carries somewhat more energy than that (paths along the
        longest axis reflect least), so the expectation is scaled, per band, by the ratio
        of the reflections' actual energy to the expected one over the half of the early
        part before the transition. Both are weighted by the same window with raised-cosine
        edges (a quarter of its length each): with a hard window a reflection crossing an
        edge by a rounding error (another device, 1e-7 m of position) would step the whole
        tail's level. Bounded to ±6 dB; 0 where there is no tail.
        """
        out = np.zeros((n_req, gain.shape[1]))
        finite = torch.isfinite(trans)
        t0, t1 = trans / 2, trans - FADE_S / 2
        ramp = (t1 - t0) * TAIL_MATCH_RAMP
        inside = finite & (order > 0) & (arrival_s > t0) & (arrival_s < t1) & (ramp > 0)
        if not bool(inside.any()):
            return out
        ramp = torch.where(inside, ramp, torch.ones_like(ramp))
        w = _match_window(arrival_s, t0, t1, ramp, torch.cos)
        measured = torch.zeros(n_req, gain.shape[1], dtype=torch.float64, device=gain.device)
        measured.index_add_(0, req[inside], (w[inside, None].double() * gain[inside].double() ** 2))
        measured = measured.cpu().numpy()
        t_req = trans.new_full((n_req,), float("nan")).index_put_((req,), trans).cpu().numpy().astype(np.float64)
        x = np.linspace(0.0, 1.0, 513)
        for j, room in enumerate(rooms):
            if room is None or not np.isfinite(t_req[j]):
                continue
            a, b = t_req[j] / 2, t_req[j] - FADE_S / 2
            if b <= a:
                continue
            t = a + (b - a) * x
            wt = _match_window(t, a, b, TAIL_MATCH_RAMP * (b - a), np.cos)
            density = 4 * np.pi * SPEED_OF_SOUND_M_S / room.volume_m3 * np.exp(-np.outer(room.decay_rate_per_s, t))
            f = wt * density
            expected = 0.5 * (f[:, 1:] + f[:, :-1]).sum(axis=1) * (t[1] - t[0])  # trapezoid rule
            # no reflection in the window: no evidence, no correction (the same alone or batched)
            with np.errstate(divide="ignore"):
                out[j] = np.where(measured[j] > 0, np.clip(10 * np.log10(measured[j] / expected), -6.0, 6.0), 0.0)
        return out

    def _lookup(self, unit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The nearest measured direction of each unit vector (K, 3), or its three nearest and
        their blend weights; against the cell lists of :mod:`binsynth.acoustics.lookup` for
        large sets (the same cosines, computed the same way, as against every direction)."""
        if self._index is None:
            cand = None
            sims = sum(unit[:, c, None] * self._units[None, :, c] for c in range(3))  # (K, M) cosines
        else:
            cand = self._index.candidates(unit)  # (K, L): a short list per image
            near = self._units_padded[cand]
            sims = sum(unit[:, c, None] * near[:, :, c] for c in range(3))
            sims = sims.masked_fill(cand == self._units.shape[0], -3.0)
        if self.interpolation == "nearest":
            pos = sims.argmax(dim=1, keepdim=True)
            idx = pos if cand is None else cand.gather(1, pos)
            return idx, torch.ones(idx.shape, dtype=torch.float32, device=self.device)
        top, pos = sims.topk(3, dim=1)
        idx = pos if cand is None else cand.gather(1, pos)
        ang = torch.arccos(top.clamp(-1.0, 1.0))
        exact = ang[:, :1] < 1e-4
        inv = 1.0 / ang.clamp_min(1e-4)
        w = torch.where(exact, torch.tensor([1.0, 0.0, 0.0], device=self.device), inv)
        return idx, w / w.sum(dim=1, keepdim=True)

    def _info(self, req: BRIRRequest, plan: dict, stats: dict) -> BRIRInfo:
        return BRIRInfo(
            n_taps=plan["n_taps"],
            fs_hz=self.fs_hz,
            azimuth_deg=plan["az"],
            elevation_deg=plan["el"],
            distance_m=plan["dist"],
            direct_delay_s=plan["dist"] / SPEED_OF_SOUND_M_S,
            transition_s=plan["transition"],
            image_order=stats["order"],
            n_images=stats["n_images"],
            rt60_s=None if plan["rt60"] is None else [float(x) for x in plan["rt60"]],
            rt60_target_s=None if req.room is None else req.room.rt60_target_s,
            hrtf_name=self.receiver_name,
            hrtf_sha256=self.receiver_sha256,
            interpolation=self.interpolation,
            tail_match_db=[round(float(x), 3) for x in stats["tail_match_db"]] if plan["reverberant"] else None,
        )


def _delay_phasors(delay: torch.Tensor, nfft: int, n_bins: int, split: int = 64) -> torch.Tensor:
    """e^{-2πi k d / nfft} for bins k < n_bins, complex64, shape delay.shape + (n_bins,).

    k = split·q + r, so the phasor is a product of two short tables computed in float64
    (r < split and q < n_bins / split): one complex multiply per bin instead of a sine and
    a cosine, with float32 accuracy for any delay.
    """
    q = torch.arange(-(-n_bins // split), device=delay.device, dtype=torch.float64)
    r = torch.arange(split, device=delay.device, dtype=torch.float64)
    turn = -2 * torch.pi / nfft * delay[..., None]
    coarse = torch.polar(torch.ones((), dtype=torch.float64, device=delay.device), torch.remainder(turn * (split * q), 2 * torch.pi))
    fine = torch.polar(torch.ones((), dtype=torch.float64, device=delay.device), torch.remainder(turn * r, 2 * torch.pi))
    table = coarse.to(torch.complex64)[..., :, None] * fine.to(torch.complex64)[..., None, :]
    return table.reshape(*delay.shape, -1)[..., :n_bins]


def _group(plans: list[dict], key: str) -> dict[int, list[int]]:
    """Indices of the plans that share ``plans[i][key]``, by value, in input order."""
    groups: dict[int, list[int]] = {}
    for i, p in enumerate(plans):
        groups.setdefault(p[key], []).append(i)
    return groups

