"""Seeded mutations of small real clips (MP4 and WebM), each probed and rendered in the isolated
child the product uses: a valid output or a known named error, within a time bound, and this
process keeps going. The long run: `python -m tests.hardening.fuzz_media --count 5000 --seed N`.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

import pytest

from media_jobs.encode import ErrorCode, RenderSpec, render
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


def test_mutated_clips_render_or_fail_with_a_named_code(seeds, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    outcomes: Counter = Counter()
    failures: list[str] = []
    slowest = (0.0, "")
    started = time.monotonic()
    for i in range(CASES):
        src, data = seeds[i % len(seeds)]
        what, mutated = fuzz_media.mutate(data, random.Random(f"{SEED}:{i}"))
        case = tmp_path / f"case{src.suffix}"
        case.write_bytes(mutated)
        fmt = "gif" if i % 2 else "webp"
        label = f"case {i} ({src.name}: {what})"
        try:
            outcome = fuzz_media.run_case(case, out_dir / f"out.{fmt}", fmt=fmt, timeout=CASE_BOUND_SECONDS)
        except AssertionError as exc:
            failures.append(f"{label}: {exc}")
            continue
        outcomes[outcome.render] += 1
        if outcome.render != "ok" and ErrorCode(outcome.render) not in fuzz_media.KNOWN_CODES:
            failures.append(f"{label}: {outcome.render}: {outcome.message}")
        if outcome.seconds > slowest[0]:
            slowest = (outcome.seconds, label)
    elapsed = time.monotonic() - started
    print(f"\n{CASES} cases in {elapsed:.1f} s: {dict(outcomes)}; slowest {slowest[0]:.2f} s, {slowest[1]}; "
          f"peak child RSS {fuzz_media.peak_child_rss_mb():.0f} MB")
    assert not failures, "\n".join(failures)
    assert slowest[0] < CASE_BOUND_SECONDS
    # The mutations reach both sides: some still render, some break the file.
    assert outcomes["ok"] > 0 and sum(n for code, n in outcomes.items() if code != "ok") > 0


def test_this_process_still_renders_after_the_fuzz_run(seeds, tmp_path):
    # Every case ran in a forked child; none of their crashes reached this process.
    result = render(seeds[0][0], RenderSpec(width=48, fps=10), tmp_path / "after.gif")
    assert result.frames == 10
