"""The encode benchmark: Loopdeck against ffmpeg and gifski on the standard cases, in one run.

    python -m bench.run                       # every case and method, 3 runs each (C: 2), median
    python -m bench.run --case A,B --quick    # one run
    python -m bench.run --methods loopdeck-gif,ffmpeg-gif-hq --case C
    python -m bench.run --variant lq-gif-perframe:"--format gif --palette-mode per_frame"

Each method runs as its own process under GNU time (wall, cpu, peak RSS). Quality, frame count,
duration and loop are read back from the last run's output and scored against the source frames
at the same timestamps (`reference.py`). Prints a Markdown table per case and a targets section;
writes the same as .md and .json under `$LOOPDECK_BENCH_DIR/results/`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

from .clips import bench_dir, clip_path
from .reference import Reference, Score, build_reference, round_half_away, score_output
from .report import case_table, targets_section
from .tools import (
    Timed,
    exclusive_lock,
    ffmpeg_path,
    fresh_dir,
    gifski_path,
    new_run_dir,
    run_timed,
    tool_version,
    wait_idle,
    warm,
)

REPO = Path(__file__).resolve().parent.parent
BUSY_SHARE_MAX = 0.25  # of one core, used by other processes during a measurement


@dataclass(frozen=True)
class Case:
    """One render request: a clip, a window of it, an output size and rate."""

    name: str
    clip: str
    start: str  # decimal strings: exact on the command lines and as Fractions
    duration: str
    fps: int
    width: int
    height: int
    note: str
    quality: bool = True  # score SSIM/PSNR (memory probes only count frames)
    default_runs: int | None = None  # overrides --runs when not given explicitly


CASES = {
    "A": Case("A", "a", "5", "3", 15, 640, 360, "1080p H.264, mid-GOP start (keyframes at 4 s, 6 s), scene cut at 7.5 s"),
    "B": Case("B", "a", "50", "3", 15, 640, 360, "same as A 45 s later (50 s is a keyframe)"),
    "C": Case("C", "c", "2", "3", 24, 1280, 720, "4K H.264 to 720p, 30 -> 24 fps", default_runs=2),
    "D": Case("D", "a", "20", "10", 10, 480, 270, "10 s at 10 fps (30 -> 10 takes source frames 1, 4, 7, ...)"),
    "E": Case("E", "gopro", "2", "3", 15, 480, 270, "real GoPro HERO5 clip, 854x480 29.97 fps full range"),
    "M3": Case("M3", "a", "0", "3", 15, 640, 360, "memory probe: 3 s", quality=False, default_runs=1),
    "M24": Case("M24", "a", "0", "24", 15, 640, 360, "memory probe: 24 s (8x the frames)", quality=False,
                default_runs=1),
}
DEFAULT_CASES = "A,B,C,D,E,M3,M24"
MEMORY_CASES = ("M3", "M24")

GIF_HQ = "fps={fps},scale={w}:{h}:flags=lanczos,split[a][b];[a]palettegen[p];[b][p]paletteuse"
GIF_DIFF = ("fps={fps},scale={w}:{h}:flags=lanczos,split[a][b];[a]palettegen=stats_mode=diff[p];"
            "[b][p]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle")
WEBP_VF = "fps={fps},scale={w}:{h}:flags=lanczos:out_color_matrix=bt601:out_range=tv"


@dataclass(frozen=True)
class Method:
    """A way to make an animation: a command template, its output format and its comparison row."""

    name: str
    fmt: str  # "gif" or "webp"
    kind: str  # "ffmpeg", "gifski" or "loopdeck"
    extra: tuple[str, ...] = ()  # loopdeck CLI arguments
    vf: str = ""


ANCHORS = {
    "ffmpeg-gif-hq": Method("ffmpeg-gif-hq", "gif", "ffmpeg", vf=GIF_HQ),
    "ffmpeg-gif-diff-bayer": Method("ffmpeg-gif-diff-bayer", "gif", "ffmpeg", vf=GIF_DIFF),
    "gifski": Method("gifski", "gif", "gifski"),
    "ffmpeg-webp": Method("ffmpeg-webp", "webp", "ffmpeg", vf=WEBP_VF),
}
LOOPDECK = {
    "loopdeck-gif": Method("loopdeck-gif", "gif", "loopdeck", ("--format", "gif")),
    "loopdeck-webp": Method("loopdeck-webp", "webp", "loopdeck", ("--format", "webp", "--quality", "75")),
}
# The memory probes only need the methods whose memory the targets judge.
MEMORY_METHODS = ("ffmpeg-webp", "loopdeck-gif", "loopdeck-webp")


def parse_variant(text: str) -> Method:
    """`NAME:ARGS` -> a loopdeck method with those extra CLI arguments (format from --format)."""
    name, sep, args = text.partition(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--variant wants NAME:ARGS, got {text!r}")
    extra = tuple(shlex.split(args))
    fmt = extra[extra.index("--format") + 1] if "--format" in extra[:-1] else "gif"
    if fmt not in ("gif", "webp"):
        raise argparse.ArgumentTypeError(f"--variant {name}: unknown format {fmt!r}")
    return Method(name, fmt, "loopdeck", extra)


def command(method: Method, case: Case, src: Path, out: Path, work: Path) -> list[str]:
    """The exact argv that renders `case` with `method` into `out`."""
    ff = ffmpeg_path()
    window = ["-ss", case.start, "-t", case.duration, "-i", str(src)]
    quiet = [ff, "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    vf = method.vf.format(fps=case.fps, w=case.width, h=case.height)
    if method.kind == "ffmpeg" and method.fmt == "gif":
        return [*quiet, *window, "-vf", vf, "-loop", "0", str(out)]
    if method.kind == "ffmpeg":
        return [*quiet, *window, "-vf", vf, "-c:v", "libwebp_anim", "-lossless", "0",
                "-quality", "75", "-compression_level", "4", "-loop", "0", str(out)]
    if method.kind == "gifski":
        # PNG extraction is part of gifski's cost: the 1.7.1 binary reads PNG only.
        frames_dir = fresh_dir(work / "png")
        scale = f"fps={case.fps},scale={case.width}:{case.height}:flags=lanczos"
        png = shlex.join([*quiet, *window, "-vf", scale, str(frames_dir / "f%05d.png")])
        gif = shlex.join([gifski_path(), "--quiet", "--fps", str(case.fps), "-W", str(case.width),
                          "-H", str(case.height), "-o", str(out)])
        return ["sh", "-c", f"{png} && {gif} {shlex.quote(str(frames_dir))}/f*.png"]
    return [sys.executable, "-m", "media_jobs.encode", "render", str(src), str(out),
            "--width", str(case.width), "--height", str(case.height), "--fps", str(case.fps),
            "--start", case.start, "--duration", case.duration, *method.extra]


@dataclass
class Row:
    """One method's figures in one case."""

    method: str
    fmt: str
    command: list[str]
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    foreign: list[float] = field(default_factory=list)  # cpu-s other processes used, per run
    bytes: int | None = None
    deterministic: bool | None = None
    error: str | None = None
    score: Score | None = None

    @property
    def wall(self) -> float | None:
        return statistics.median(self.walls) if self.walls else None

    @property
    def cpu(self) -> float | None:
        return statistics.median(self.cpus) if self.cpus else None

    @property
    def rss_mb(self) -> float | None:
        return max(self.rss) if self.rss else None


@dataclass(frozen=True)
class Settle:
    """How hard to try for an undisturbed measurement on a shared machine."""

    max_wait: float = 60.0  # seconds to wait for other work to stop before each run
    retries: int = 1  # re-runs of a measurement that other processes disturbed


def disturbed(timed: Timed) -> bool:
    """Did other processes take more than a quarter of a core on average during the run?"""
    return timed.foreign_cpu > BUSY_SHARE_MAX * max(timed.wall, 0.01)


def compile_core() -> None:
    """Compile Loopdeck's modules to bytecode (the usual __pycache__, ignored by git) once, as
    installing a package does.

    Python still reads bytecode under PYTHONDONTWRITEBYTECODE, which this machine sets; without
    this step every command-line run compiles the encode core's modules from source: about 20 ms
    that neither a worker (it imports them once) nor an installed package pays.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", "media_jobs"], cwd=REPO, check=True)


def measure(argv: list[str], settle: Settle) -> Timed:
    """One measurement: wait for an idle machine, run, and redo it if something else ran meanwhile."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    for attempt in range(settle.retries + 1):
        if settle.max_wait > 0:
            wait_idle(settle.max_wait)
        timed = run_timed(argv, cwd=REPO, env=env)
        if timed.returncode != 0 or not disturbed(timed) or attempt == settle.retries:
            return timed
        print(f" [disturbed: {timed.foreign_cpu:.1f} cpu-s by others in {timed.wall:.1f} s, again]",
              end="", file=sys.stderr, flush=True)
    raise AssertionError("unreachable")


def run_case(case: Case, methods: list[Method], runs: int, run_dir: Path,
             settle: Settle) -> tuple[list[Row], dict]:
    """Render the case with every method `runs` times (interleaved), then score the outputs."""
    src = clip_path(case.clip)
    out_dir = fresh_dir(run_dir / case.name)
    start, duration, fps = Fraction(case.start), Fraction(case.duration), Fraction(case.fps)
    started = time.perf_counter()
    if case.quality:
        ref = build_reference(src, start, duration, fps, case.width, case.height)
    else:
        # Memory probes only count frames: no need to decode the source here.
        ref = Reference([], list(range(round_half_away(duration * fps))), (case.width, case.height))
    info = {"case": asdict(case), "source": str(src), "reference_frames": len(ref.frames),
            "expected_frames": ref.expected_count, "reference_s": round(time.perf_counter() - started, 2)}
    warm(src)
    info["load_before"] = os.getloadavg()
    rows = {m.name: Row(m.name, m.fmt, []) for m in methods}
    digests: dict[str, set[str]] = {m.name: set() for m in methods}
    for r in range(runs):
        for m in methods:
            row = rows[m.name]
            if row.error:
                continue
            out = out_dir / f"{m.name}.{m.fmt}"
            out.unlink(missing_ok=True)
            argv = command(m, case, src, out, out_dir / f"{m.name}.work")
            row.command = argv
            print(f"  {case.name} run {r + 1}/{runs} {m.name} ...", end="", file=sys.stderr, flush=True)
            timed = measure(argv, settle)
            if timed.returncode != 0 or not out.is_file():
                row.error = f"exit {timed.returncode}: {timed.stderr.strip()[-400:]}"
                print(f" FAILED ({row.error.splitlines()[0][:120]})", file=sys.stderr, flush=True)
                continue
            print(f" {timed.wall:.2f} s", file=sys.stderr, flush=True)
            row.foreign.append(timed.foreign_cpu)
            row.walls.append(timed.wall)
            row.cpus.append(timed.cpu)
            row.rss.append(timed.rss_mb)
            row.bytes = out.stat().st_size
            digests[m.name].add(hashlib.sha256(out.read_bytes()).hexdigest())
    started = time.perf_counter()
    for m in methods:
        row = rows[m.name]
        out = out_dir / f"{m.name}.{m.fmt}"
        if row.error or not out.is_file():
            continue
        row.deterministic = len(digests[m.name]) == 1
        row.score = score_output(out, ref, fps, quality=case.quality)
        if not row.deterministic:
            row.score.flags.append("bytes differ between runs")
        if row.walls and statistics.median(row.foreign) > BUSY_SHARE_MAX * statistics.median(row.walls):
            row.score.flags.append(f"busy machine: others used {statistics.median(row.foreign):.1f} cpu-s")
    info["scoring_s"] = round(time.perf_counter() - started, 2)
    return list(rows.values()), info


def core_revision() -> str:
    """The commit the Loopdeck rows ran, and whether the encode core had uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "media_jobs/encode"], cwd=REPO,
                               check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"unknown ({exc})"
    return f"{head}{' + uncommitted changes in media_jobs/encode' if dirty else ''}"


def row_json(row: Row) -> dict:
    data = asdict(row)
    data.update(wall=row.wall, cpu=row.cpu, rss_mb=row.rss_mb)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", default=DEFAULT_CASES, help=f"comma-separated, from {','.join(CASES)}")
    parser.add_argument("--methods", default="", help="comma-separated method names (default: all)")
    parser.add_argument("--variant", action="append", type=parse_variant, default=[],
                        help='extra loopdeck row, NAME:"CLI ARGS" (repeatable)')
    parser.add_argument("--runs", type=int, default=None, help="runs per method, median reported (default 3)")
    parser.add_argument("--quick", action="store_true", help="one run per method")
    parser.add_argument("--max-wait", type=float, default=60.0,
                        help="seconds to wait for an idle machine before each run (0: never wait)")
    parser.add_argument("--retries", type=int, default=1,
                        help="re-runs of a measurement that other processes disturbed")
    args = parser.parse_args(argv)

    catalogue = {**ANCHORS, **LOOPDECK, **{v.name: v for v in args.variant}}
    chosen = [m.strip() for m in args.methods.split(",") if m.strip()] or list(catalogue)
    unknown = [m for m in chosen if m not in catalogue]
    cases = [c.strip() for c in args.case.split(",") if c.strip()]
    bad_cases = [c for c in cases if c not in CASES]
    if unknown or bad_cases:
        parser.error(f"unknown methods {unknown} or cases {bad_cases}; methods: {', '.join(catalogue)}")
    runs_arg = 1 if args.quick else args.runs
    settle = Settle(args.max_wait, args.retries)
    # SIGTERM unwinds like Ctrl-C, so run_timed kills the measured process tree.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    tools = {"ffmpeg": tool_version([ffmpeg_path(), "-version"]),
             "gifski": tool_version([gifski_path(), "--version"]) if "gifski" in chosen else "not used",
             "python": sys.version.split()[0], "load_before": os.getloadavg(), "loopdeck": core_revision()}
    lock = exclusive_lock(bench_dir() / "run.lock")
    compile_core()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = new_run_dir(bench_dir() / "out", stamp)
    results: dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "tools": tools, "cases": {},
                     "outputs": str(run_dir)}
    preamble = (f"## Encode benchmark {results['started']}\n\n{tools['ffmpeg']}; {tools['gifski']}; "
                f"Loopdeck {tools['loopdeck']}; Python {tools['python']}; "
                f"load average {tools['load_before'][0]:.2f} at start.\n")
    print(preamble, flush=True)
    tables: list[str] = [preamble]
    for name in cases:
        case = CASES[name]
        names = [m for m in chosen if name not in MEMORY_CASES or m in MEMORY_METHODS or m in
                 {v.name for v in args.variant}]
        methods = [catalogue[m] for m in names]
        runs = runs_arg if runs_arg is not None else (case.default_runs or 3)
        print(f"case {name}: {case.note}; {runs} run(s), load {os.getloadavg()[0]:.2f}", file=sys.stderr)
        rows, info = run_case(case, methods, runs, run_dir, settle)
        info.update(runs=runs, load_after=os.getloadavg())
        results["cases"][name] = {"info": info, "rows": [row_json(r) for r in rows]}
        table = case_table(results["cases"][name])
        tables.append(table)
        print(table, flush=True)
    targets = targets_section(results["cases"])
    print(targets)
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    out = bench_dir() / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"results-{stamp}.json").write_text(json.dumps(results, indent=1, default=str))
    (out / f"results-{stamp}.md").write_text("\n\n".join(tables + [targets]) + "\n")
    print(f"\nresults: {out / f'results-{stamp}.md'} and .json; outputs in {run_dir}", file=sys.stderr)
    lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
