"""`containai-rpc`: the stdio server (default), `--listen` (the per-user shared server on
a unix socket) or `--remote auto` (stdio forwarded to the shared server, started if need
be). Parses its arguments with the standard library only: the protocol stack is imported
by the mode that needs it, so a forwarder starts in milliseconds."""

from __future__ import annotations

import argparse
import sys


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="containai-rpc", description="The containai/* JSON-RPC server (LSP framing)."
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--listen",
        action="store_true",
        help="serve every client of this user on a private unix socket (one server per user)",
    )
    mode.add_argument(
        "--remote",
        metavar="auto",
        help="forward stdio to the shared server ('auto': start it when none runs)",
    )
    p.add_argument(
        "--idle",
        metavar="SECONDS",
        help="--listen: exit after this long with no client "
        "(default: $CONTAINAI_SERVER_IDLE, else 600)",
    )
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.listen:
        from containai_rpc.server.listen import idle_seconds, serve

        sys.exit(serve(idle_seconds(args.idle)))
    if args.remote is not None:
        from containai_rpc.local.forward import forward

        sys.exit(forward(args.remote))
    from containai_rpc.server.app import main as stdio

    stdio()
