"""``qrate scenarios``: list the scenario presets shipped with qrate."""

from __future__ import annotations

from qrate._cli.args import ArgumentParser
from qrate.scenario import preset_descriptions, preset_text
from qrate.text import printable


def main(argv: list[str]) -> int:
    """List presets (name and description), or print one preset's TOML with ``--show NAME``."""
    parser = ArgumentParser(prog="qrate scenarios", description="List the scenario presets shipped with qrate.")
    parser.add_argument("--show", metavar="NAME", help="print the TOML text of preset NAME")
    args = parser.parse_args(argv)
    presets = preset_descriptions()
    if args.show is not None:
        if args.show not in presets:
            parser.error(f"--show: unknown preset {args.show!r}; expected one of {', '.join(presets)}")
        print(preset_text(args.show), end="")
        return 0
    width = max(len(n) for n in presets)
    for name, description in presets.items():
        print(f"{printable(name):<{width}}  {printable(description)}")  # control characters escaped
    return 0
