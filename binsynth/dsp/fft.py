"""FFT sizes: lengths that FFT libraries transform fastest, and coarse sizes that let
requests share one batched FFT."""

from __future__ import annotations


def fast_fft_len(n: int) -> int:
    """Smallest 2**a * 3**b * 5**c >= n (sizes FFT libraries handle fastest)."""
    best = 1 << max(0, int(n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def coarse_fft_len(n: int) -> int:
    """Smallest m * 2**k >= n with m in {8, 9, 10, 12, 15}: fast FFT sizes at most 12.5 % apart.

    Requests whose sizes round to the same value can share one batched FFT; the size still
    depends only on ``n``, so results do not depend on how work was batched.
    """
    if n <= 8:
        return 8
    k = max(0, int(n - 1).bit_length() - 4)
    while True:
        for m in (8, 9, 10, 12, 15):
            if m << k >= n:
                return m << k
        k += 1
