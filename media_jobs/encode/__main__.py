"""Command line: `python -m media_jobs.encode probe|render|snapshot ...`, JSON out, exit 2 on failure.

Every RenderSpec field has a flag named after it (`trim_end` -> `--trim-end`; booleans also get
`--no-...`). Failures print {"code": ..., "message": ...} on stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import typing
from typing import Any, NoReturn, Sequence

from .errors import EncodeError, ErrorCode
from .probe import probe
from .render import render
from .snapshot import snapshot
from .spec import DITHERS, FORMATS, PALETTE_MODES, SCALE_MODES, RenderSpec

_CHOICES = {"format": FORMATS, "scale_mode": SCALE_MODES, "dither": DITHERS, "palette_mode": PALETTE_MODES}


class _Parser(argparse.ArgumentParser):
    """Reports bad arguments as a named error in JSON, like every other failure."""

    def error(self, message: str) -> NoReturn:
        _fail(EncodeError(ErrorCode.INVALID_PARAMETER, message))


def _fail(error: EncodeError) -> NoReturn:
    print(json.dumps(error.as_dict()), file=sys.stderr)
    sys.exit(2)


def _field_type(annotation: Any) -> type:
    """int, float, bool or str from a dataclass annotation such as 'int | None'."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    for name, kind in (("bool", bool), ("float", float), ("int", int)):
        if name in text:
            return kind
    return str


def _add_spec_flags(parser: argparse.ArgumentParser) -> None:
    hints = typing.get_type_hints(RenderSpec)
    for f in dataclasses.fields(RenderSpec):
        flag = "--" + f.name.replace("_", "-")
        kind = _field_type(hints.get(f.name, f.type))
        if kind is bool:
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                                help=f"(default {f.default})")
        else:
            parser.add_argument(flag, dest=f.name, type=kind, default=None, choices=_CHOICES.get(f.name),
                                help=f"(default {f.default})")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m media_jobs.encode", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    cmd = commands.add_parser("probe", help="print the media info of a file as JSON")
    cmd.add_argument("src")
    cmd.add_argument("--isolated", action="store_true", help="run in a child process")

    cmd = commands.add_parser("render", help="render an animated GIF or WebP, print the output info")
    cmd.add_argument("src")
    cmd.add_argument("out")
    _add_spec_flags(cmd)
    cmd.add_argument("--isolated", action="store_true", help="run in a child process")
    cmd.add_argument("--timeout", type=float, default=1800, help="seconds (with --isolated)")
    cmd.add_argument("--memory-limit-mb", type=int, default=2048, help="(with --isolated)")
    cmd.add_argument("--progress", action="store_true", help="print progress fractions on stderr")

    cmd = commands.add_parser("snapshot", help="write a JPEG cover image, print its size")
    cmd.add_argument("src")
    cmd.add_argument("out")
    cmd.add_argument("--at", type=float, default=None, help="seconds (default: ~1 s in)")
    cmd.add_argument("--max-size", type=int, default=640)
    cmd.add_argument("--isolated", action="store_true", help="run in a child process")
    return parser


def _spec_from(args: argparse.Namespace) -> RenderSpec:
    values = {name: getattr(args, name) for name in RenderSpec.field_names() if getattr(args, name) is not None}
    try:
        return RenderSpec(**values).validate()
    except TypeError as exc:
        raise EncodeError(ErrorCode.INVALID_PARAMETER, str(exc)) from None


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Execute a command line and return what it prints."""
    args = build_parser().parse_args(argv)
    if args.isolated:
        from .isolate import probe_isolated, render_isolated, snapshot_isolated
    if args.command == "probe":
        info = probe_isolated(args.src) if args.isolated else probe(args.src)
        return info.to_dict()
    if args.command == "snapshot":
        call = snapshot_isolated if args.isolated else snapshot
        width, height = call(args.src, args.out, at=args.at, max_size=args.max_size)
        return {"width": width, "height": height}
    spec = _spec_from(args)
    progress = (lambda f: print(f"progress {f:.3f}", file=sys.stderr, flush=True)) if args.progress else None
    if args.isolated:
        result = render_isolated(args.src, spec, args.out, progress=progress, timeout=args.timeout,
                                 memory_limit_mb=args.memory_limit_mb)
    else:
        result = render(args.src, spec, args.out, progress=progress)
    return result.to_dict()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        output = run(argv)
    except EncodeError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        _fail(EncodeError(ErrorCode.INTERNAL_ERROR, "interrupted"))
    print(json.dumps(output, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
