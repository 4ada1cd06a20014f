"""``python -m nodeflow COMMAND``: run, validate, convert, new-node."""

from __future__ import annotations

import argparse
import sys

from nodeflow.cli import commands


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nodeflow", description="NodeFlow command line")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_args, _) in commands.COMMANDS.items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    handler = commands.COMMANDS[args.command][2]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
