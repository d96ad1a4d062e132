"""Seeded mutations of small real clips (MP4 and WebM), each probed and rendered in the isolated
child the product uses: a valid output or a known named error, within a time bound, and this
process keeps going. The long run: `python -m tests.hardening.fuzz_media --count 5000 --seed N`.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from media_jobs.encode import RenderSpec, render
from tests.hardening import fuzz_media

CASES = 300
SEED = 20261121
# Per case (probe + render). Typical cases take 50 ms; a hang would show as ProcessTimeout.
CASE_BOUND_SECONDS = 10


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in fuzz_media.seed_clips(tmp_path_factory.mktemp("seeds"))]


def test_the_mutations_are_deterministic(seeds):
    data = seeds[0][1]
    first = [fuzz_media.mutate(data, random.Random(f"{SEED}:{i}")) for i in range(20)]
    again = [fuzz_media.mutate(data, random.Random(f"{SEED}:{i}")) for i in range(20)]
    assert first == again
    assert sum(mutated != data for _, mutated in first) >= 18
    assert len({what.split()[0] for what, _ in first}) >= 4, "the mutation kinds are not mixed"


def test_mutated_clips_render_or_fail_with_a_named_code(tmp_path):
    figures = fuzz_media.fuzz(CASES, SEED, tmp_path, timeout=CASE_BOUND_SECONDS)
    print(f"\n{figures.cases} cases in {figures.seconds:.1f} s: {dict(figures.outcomes)}; "
          f"{figures.crashes} decoder crashes; slowest {figures.slowest[0]:.2f} s, {figures.slowest[1]}; "
          f"peak child RSS {figures.peak_child_rss_mb:.0f} MB")
    assert not figures.findings, "\n".join(figures.findings)
    assert figures.slowest[0] < CASE_BOUND_SECONDS
    # The mutations reach both sides: some still render, some break the file.
    assert figures.outcomes["ok"] > 0 and sum(n for code, n in figures.outcomes.items() if code != "ok") > 0


def test_this_process_still_renders_after_the_fuzz_run(seeds, tmp_path):
    # Every case ran in a forked child; none of their crashes reached this process.
    result = render(seeds[0][0], RenderSpec(width=48, fps=10), tmp_path / "after.gif")
    assert result.frames == 10
