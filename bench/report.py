"""Markdown for the benchmark: one table per case and the targets from the issue, PASS/FAIL.

Works on the JSON form of the results (`run.py` writes the same dicts to disk), so a saved run
can be re-reported: `python -m bench.report results-....json`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# Ratios in the tables are against ffmpeg's better GIF recipe and its WebP.
GIF_BASE, WEBP_BASE = "ffmpeg-gif-diff-bayer", "ffmpeg-webp"
BUSY_FLAG = "busy machine"  # run.py's flag for a measurement other processes disturbed

# Issue 17's targets, each a ratio within one run. GIF: gifski's SSIM at ffmpeg diff+bayer's
# wall time and bytes. WebP: at least ffmpeg's SSIM in 0.9x its bytes and 0.9x its wall time.
GIF_WALL_MAX, GIF_BYTES_MAX = 1.0, 1.0
WEBP_WALL_MAX, WEBP_BYTES_MAX = 0.9, 0.9
OFFSET_RATIO_MAX = 1.2
RSS_4K_MAX_MB = 400.0
MEMORY_SLACK_MB = 32.0
# What a one-pass global palette may keep per extra output frame: one BGRA frame.
GLOBAL_PALETTE_BYTES_PER_PIXEL = 4


def _f(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _load(info: dict) -> str:
    """The 1-minute load average around the case: other work on the 2 cores skews every figure."""
    if "load_before" not in info or "load_after" not in info:
        return ""
    return f" Load average {info['load_before'][0]:.2f} before, {info['load_after'][0]:.2f} after."


def _rows(case: dict) -> dict[str, dict]:
    return {r["method"]: r for r in case["rows"]}


def _base(row: dict) -> str:
    return GIF_BASE if row["fmt"] == "gif" else WEBP_BASE


def case_table(case: dict) -> str:
    """The per-case Markdown table: method, wall, ratio, cpu, bytes, ratio, quality, counts, RSS."""
    info, spec = case["info"], case["info"]["case"]
    rows = _rows(case)
    head = (f"### Case {spec['name']}: `{Path(info['source']).name}` start {spec['start']} s, "
            f"{spec['duration']} s, {spec['width']}x{spec['height']} @ {spec['fps']} fps -> "
            f"{info['expected_frames']} frames (median of {info['runs']} run(s))\n\n{spec['note']}.{_load(info)}\n")
    lines = [head,
             "| method | wall s | wall ratio | cpu s | bytes | bytes ratio | SSIM | PSNR | frames | dur ms | peak RSS MB | flags |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, row in rows.items():
        base = rows.get(_base(row))
        score = row.get("score") or {}
        if row.get("error"):
            lines.append(f"| {name} | - | - | - | - | - | - | - | - | - | - | ERROR {row['error'].splitlines()[-1][:100]} |")
            continue
        wall_ratio = bytes_ratio = None
        if base and base.get("wall") and row.get("wall") is not None:
            wall_ratio = row["wall"] / base["wall"]
        if base and base.get("bytes") and row.get("bytes") is not None:
            bytes_ratio = row["bytes"] / base["bytes"]
        flags = list(score.get("flags", []))
        lines.append(
            f"| {name} | {_f(row['wall'], '.2f')} | {_f(wall_ratio, '.2f')} | {_f(row['cpu'], '.2f')} | "
            f"{_f(row['bytes'], ',')} | {_f(bytes_ratio, '.2f')} | {_f(score.get('ssim'), '.4f')} | "
            f"{_f(score.get('psnr'), '.2f')} | {score.get('frames', '-')} | {score.get('duration_ms', '-')} | "
            f"{_f(row['rss_mb'], '.0f')} | {'; '.join(flags)} |")
    return "\n".join(lines)


def _ok(flag: bool) -> str:
    return "PASS" if flag else "FAIL"


def _busy(row: dict) -> list[str]:
    """The row's busy-machine flags: its timing is in doubt, its output is not."""
    return [f for f in (row.get("score") or {}).get("flags", []) if f.startswith(BUSY_FLAG)]


def _quality_line(name: str, case: str, rows: dict[str, dict]) -> list[str]:
    """GIF or WebP target for one loopdeck row of one case."""
    row = rows[name]
    if row.get("error") or not row.get("score") or row["score"].get("ssim") is None:
        return [f"- {case} {name}: FAIL (no scored output: {row.get('error') or 'not scored'})"]
    ssim = row["score"]["ssim"]
    if row["fmt"] == "gif":
        base = rows.get(GIF_BASE)
        if not base or not base.get("wall") or not (base.get("score") or {}).get("ssim"):
            return [f"- {case} {name}: n/a ({GIF_BASE} row missing)"]
        gifski = rows.get("gifski")
        # Without a gifski row, ffmpeg's recipe is the quality to match.
        aim = gifski if gifski and (gifski.get("score") or {}).get("ssim") is not None else base
        wall_max, bytes_max = GIF_WALL_MAX, GIF_BYTES_MAX
    else:
        base = aim = rows.get(WEBP_BASE)
        if not base or not base.get("wall") or not (base.get("score") or {}).get("ssim"):
            return [f"- {case} {name}: n/a ({WEBP_BASE} row missing)"]
        wall_max, bytes_max = WEBP_WALL_MAX, WEBP_BYTES_MAX
    wall_ratio = row["wall"] / base["wall"]
    bytes_ratio = row["bytes"] / base["bytes"]
    aim_ssim = aim["score"]["ssim"]
    flags = row["score"]["flags"]
    base_busy = [f"{base['method']}: {f}" for f in _busy(base)]
    busy = _busy(row) + base_busy
    wrong = [f for f in flags if not f.startswith(BUSY_FLAG)]
    checks = [wall_ratio <= wall_max, ssim >= aim_ssim, bytes_ratio <= bytes_max, not wrong]
    verdict = _ok(all(checks))
    if busy and all(checks[1:]):
        # Only the timing is in doubt: other processes ran during it.
        verdict = "PASS (timing disturbed)" if checks[0] else "INCONCLUSIVE (timing disturbed)"
    return [f"- {case} {name}: **{verdict}** — wall {wall_ratio:.2f}x {base['method']} "
            f"(<= {wall_max}: {_ok(checks[0])}); SSIM {ssim:.4f} vs {aim['method']} {aim_ssim:.4f} "
            f"({_ok(checks[1])}); bytes {bytes_ratio:.3f}x {base['method']} (<= {bytes_max}: {_ok(checks[2])}); "
            f"flags: {'; '.join(flags + base_busy) or 'none'}"]


def targets_section(cases: dict[str, dict]) -> str:
    """Every target of the issue that the measured cases allow checking, with the figures."""
    lines = ["## Targets (ratios within this run)", ""]
    loopdeck: set[str] = set()
    for data in cases.values():
        loopdeck.update(r["method"] for r in data["rows"] if "media_jobs.encode" in r["command"])
    quality_cases = [c for c, d in cases.items() if d["info"]["case"]["quality"]]
    for name in sorted(loopdeck):
        for c in quality_cases:
            rows = _rows(cases[c])
            if name in rows:
                lines.extend(_quality_line(name, c, rows))
    if "A" in cases and "B" in cases:
        a, b = _rows(cases["A"]), _rows(cases["B"])
        for name in sorted(loopdeck):
            if a.get(name, {}).get("wall") and b.get(name, {}).get("wall"):
                ratio = b[name]["wall"] / a[name]["wall"]
                doubt = " (timing disturbed)" if _busy(a[name]) or _busy(b[name]) else ""
                lines.append(f"- start offset {name}: **{_ok(ratio <= OFFSET_RATIO_MAX)}{doubt}** — B (50 s) "
                             f"{b[name]['wall']:.2f} s / A (5 s) {a[name]['wall']:.2f} s = {ratio:.2f}x "
                             f"(<= {OFFSET_RATIO_MAX})")
    if "C" in cases:
        for name, row in _rows(cases["C"]).items():
            if name in loopdeck and row.get("rss_mb") is not None:
                lines.append(f"- 4K peak RSS {name}: **{_ok(row['rss_mb'] <= RSS_4K_MAX_MB)}** — "
                             f"{row['rss_mb']:.0f} MB (<= {RSS_4K_MAX_MB:.0f} MB)")
    lines.extend(_memory_lines(cases, loopdeck))
    return "\n".join(lines)


def _memory_lines(cases: dict[str, dict], loopdeck: set[str]) -> list[str]:
    """Peak RSS growth from the 3 s probe to the 24 s probe, against what the palette mode needs."""
    if "M3" not in cases or "M24" not in cases:
        return []
    short, long = _rows(cases["M3"]), _rows(cases["M24"])
    spec = cases["M24"]["info"]["case"]
    extra = cases["M24"]["info"]["expected_frames"] - cases["M3"]["info"]["expected_frames"]
    pixels = spec["width"] * spec["height"]
    out = []
    for name in sorted(set(short) & set(long)):
        s, l = short[name], long[name]
        if s.get("rss_mb") is None or l.get("rss_mb") is None:
            continue
        growth = l["rss_mb"] - s["rss_mb"]
        per_px = max(growth, 0.0) * 1024 * 1024 / (extra * pixels)
        command = " ".join(l["command"])
        keeps_frames = l["fmt"] == "gif" and "per_frame" not in command
        # libwebp's animation encoder (ffmpeg's too) holds the whole encoded file until the end.
        held = (l["bytes"] or 0) / 2**20 if l["fmt"] == "webp" else 0.0
        allowed = MEMORY_SLACK_MB + held + (
            extra * pixels * GLOBAL_PALETTE_BYTES_PER_PIXEL / 2**20 if keeps_frames else 0.0)
        judged = name in loopdeck
        verdict = f"**{_ok(growth <= allowed)}**" if judged else "reference"
        need = (f"global palette: up to {GLOBAL_PALETTE_BYTES_PER_PIXEL} B/px per extra frame"
                if keeps_frames else "streaming: no per-frame growth")
        if held:
            need += f", + the {held:.0f} MB output held by the WebP encoder"
        out.append(f"- memory vs length {name}: {verdict} — peak RSS {s['rss_mb']:.0f} MB (3 s) -> "
                   f"{l['rss_mb']:.0f} MB (24 s), {growth:+.0f} MB for {extra} more frames = "
                   f"{per_px:.2f} B/px/frame; allowed {allowed:.0f} MB ({need}, + {MEMORY_SLACK_MB:.0f} MB slack)")
    return out


def main(argv: list[str] | None = None) -> int:
    """Re-print the tables and targets of a saved results JSON."""
    paths = argv if argv is not None else sys.argv[1:]
    for path in paths:
        results: dict[str, Any] = json.loads(Path(path).read_text())
        for case in results["cases"].values():
            print(case_table(case), end="\n\n")
        print(targets_section(results["cases"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
