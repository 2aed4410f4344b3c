"""`cai` command line: parse, ask the server, print. Exit 0, or 1 with a one-line message."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any, NoReturn

from containai_rpc import __version__
from containai_rpc.cli.commands import MODULES
from containai_rpc.cli.commands import command as load_command
from containai_rpc.cli.commands.base import Command, UsageError
from containai_rpc.cli.escape import json_text, printable, printable_values
from containai_rpc.cli.session import Session
from containai_rpc.local.channel import RpcError, drive


def _columns() -> int:
    """The terminal's width as `shutil.get_terminal_size` finds it, without importing
    shutil (and its compression modules) on every `cai` call."""
    with contextlib.suppress(ValueError):
        if int(os.environ.get("COLUMNS", "0")) > 0:
            return int(os.environ["COLUMNS"])
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str, **kwargs: Any) -> None:
        kwargs.setdefault("width", _columns() - 2)  # what argparse does via shutil
        super().__init__(prog, **kwargs)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # argparse would exit 2 with a usage dump
        raise UsageError(message)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Every subcommand; with `only` (the command line's subcommand), that one's arguments
    alone, the others by name: `cai` then imports one command module, not all of them."""
    parser = _Parser(
        prog="cai",
        description="Persistent per-workspace agent containers.",
        epilog="cai mcp [--workspace DIR] [--allow-destructive]: serve the tools over MCP "
        "(stdio) for AI agents; see cai mcp --help.",
    )
    parser.add_argument("--version", action="version", version=f"cai {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, required=True)
    for name in MODULES:
        if only is not None and name != only:
            sub.add_parser(name)
            continue
        command = load_command(name)
        p = sub.add_parser(command.name, help=command.help, description=command.help)
        command.arguments(p)
        p.add_argument("--json", action="store_true", help="print the result object as JSON")
        p.add_argument("--context", help="Docker context to use")
        p.add_argument("--verbose", action="store_true", help="show server logs on stderr")
        if command.interactive:
            p.add_argument(
                "--yes", "-y", action="store_true", help="answer yes to questions (or CAI_YES=1)"
            )
        if command.takes_config:
            p.add_argument(
                "--config", metavar="FILE", help="use FILE instead of the user config.toml"
            )
        p.set_defaults(handler=command)
    server = sub.add_parser("server", help="show or stop the shared server")
    if only in (None, "server"):
        from containai_rpc.cli import server_admin

        server_admin.arguments(server)
        server.set_defaults(local=server_admin.run)
    return parser


class _Done(Exception):
    """A command that asks no server (`cai server`) finished with this exit code."""

    def __init__(self, code: int) -> None:
        self.code = code


class Cancelled(Exception):
    """EOF at a `[y/N]` prompt: nothing was changed, and that is not a failure."""


class Confirmer:
    """Answers the server's questions: `--yes`/`CAI_YES=1`, else a `[y/N]` prompt on the
    terminal (`[WARN] …` then `Stop anyway? [y/N]:` on stderr); records an EOF."""

    def __init__(self, assume_yes: bool) -> None:
        self.assume_yes = assume_yes
        self.eof = False

    def __call__(self, message: str, actions: list[str]) -> str | None:
        warning, _, question = message.rpartition(". ")
        warning, question = printable(warning), printable(question or message)
        if warning:
            print(f"[WARN] {warning}", file=sys.stderr)
        if self.assume_yes:
            print(f"{question} yes (--yes)", file=sys.stderr)
            return actions[0]
        sys.stderr.write(f"{question} [y/N]: ")
        sys.stderr.flush()
        answer = sys.stdin.readline()
        if not answer:
            sys.stderr.write("\n")
            print("Cancelled.", file=sys.stderr)
            self.eof = True
            return None
        return actions[0] if answer.strip().lower().startswith("y") else None


def assume_yes(args: argparse.Namespace) -> bool:
    """`--yes`/`-y`, or `CAI_YES=1` in the environment (the original's auto-yes)."""
    return bool(getattr(args, "yes", False)) or os.environ.get("CAI_YES") == "1"


def config_file(args: argparse.Namespace) -> str | None:
    """`--config FILE` as an absolute path (`~` expanded); the file must exist."""
    value = getattr(args, "config", None)
    if value is None:
        return None
    path = os.path.abspath(os.path.expanduser(value))
    if not os.path.isfile(path):
        raise UsageError(f"Config file not found: {value}")
    return path


def progress_line(message: str) -> None:
    """A step line on stderr: rewritten in place on a terminal, plain lines otherwise."""
    message = printable(message, one_line=True)
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K… {message}")
    else:
        sys.stderr.write(f"-> {message}\n")
    sys.stderr.flush()


async def execute(command: Command, args: argparse.Namespace) -> dict[str, Any]:
    method, params = command.request(args)
    config = config_file(args)
    confirmer = Confirmer(assume_yes(args))
    can_ask = confirmer.assume_yes or (sys.stdin.isatty() and sys.stderr.isatty())
    show_progress = command.long_running and not args.json
    if show_progress:
        params["workDoneToken"] = "cai"
    async with Session(
        confirm=confirmer if command.interactive and can_ask else None,
        on_progress=progress_line if show_progress else None,
        verbose=args.verbose,
        config=config,
    ) as session:
        result = await session.request(method, params)
    if show_progress and sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    if confirmer.eof:
        raise Cancelled
    return result


def approved_volume(exc: RpcError, args: argparse.Namespace) -> bool:
    """A repository's config chose a volume that is not ContainAI's: on a terminal (or
    with `--yes`) ask, as git asks before trusting a repository; yes → run again with
    `--approve-volume`, which the server remembers for the workspace."""
    data = exc.data
    if exc.reason != "volumeNotApproved" or not data.get("approvable"):
        return False
    if getattr(args, "approve_volume", True) or args.json:
        return False
    confirmer = Confirmer(assume_yes(args))
    if not (confirmer.assume_yes or (sys.stdin.isatty() and sys.stderr.isatty())):
        return False
    question = f"Use data volume '{data.get('volume')}' for this workspace?"
    if confirmer(f"{exc.message}. {question}", ["Approve"]) is None:
        if confirmer.eof:
            raise Cancelled
        return False
    args.approve_volume = True
    return True


def rebuild_outdated(result: dict[str, Any], args: argparse.Namespace) -> bool:
    """`run` found its container outdated (its template changed): on a terminal (or with
    `--yes`/`CAI_YES=1`) ask, as the original does; yes → run again with `--fresh`."""
    container = result.get("container") or {}
    if args.handler.name != "run" or args.json or not container.get("outdated"):
        return False
    if getattr(args, "fresh", True) or getattr(args, "dry_run", True):
        return False
    confirmer = Confirmer(assume_yes(args))
    if not (confirmer.assume_yes or (sys.stdin.isatty() and sys.stderr.isatty())):
        return False
    reason = container.get("outdatedReason") or "it changed"
    question = "Rebuild container with the updated template now?"
    if confirmer(f"Container {container['name']} is outdated: {reason}. {question}", ["Yes"]):
        args.fresh = True
        return True
    if confirmer.eof:
        raise Cancelled
    return False


def unless_mcp(argv: list[str]) -> list[str]:
    """`cai mcp [options]` serves MCP in this process (stdio belongs to it) and exits;
    any other command line comes back as a list."""
    if argv[:1] != ["mcp"]:
        return list(argv)
    from containai_rpc.mcp_server.app import main as mcp_main

    mcp_main(argv[1:], prog="cai mcp")
    sys.exit(0)


def split_command(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """`cai [flags] -- CMD ARGS...`: the flags, and the command (None without `--`)."""
    if "--" not in argv:
        return argv, None
    at = argv.index("--")
    return argv[:at], argv[at + 1 :]


def explicit_session(args: argparse.Namespace) -> bool:
    """A command, an agent, `-e` or `-d` was asked for (always by `shell` and `exec`): no
    SSH is then an error, where a plain `cai run` prints the summary."""
    if args.handler.name != "run":
        return True
    return any(getattr(args, k, None) for k in ("command_argv", "agent", "env", "detached"))


def parse(argv: list[str]) -> argparse.Namespace:
    """The arguments, with the command after `--` as `command_argv` (None: no `--`)."""
    argv, command_argv = split_command(argv)
    only = argv[0] if argv and (argv[0] in MODULES or argv[0] == "server") else None
    args = build_parser(only).parse_args(argv)
    if command_argv is not None and not args.handler.takes_command:
        raise UsageError(f"cai {args.handler.name} takes no command after --")
    args.command_argv = command_argv
    return args


def finish(args: argparse.Namespace, result: dict[str, Any], session: bool) -> int:
    """Run the result's session, or print the result; the exit status."""
    if session:
        from containai_rpc.cli.commands.sessions import open_session

        return open_session(result, explicit=explicit_session(args))
    if args.json:
        view = args.handler.json_view
        text = json_text(view(result) if view else result)
    else:
        text = printable(args.handler.render(printable_values(result)))
    if text:
        print(text)
    code = 1 if args.handler.failed(result) else 0
    if args.handler.after is not None:
        args.handler.after(result)
    return code


def answer(args: argparse.Namespace) -> dict[str, Any]:
    """The server's answer to the command (asked again once a volume was approved)."""
    try:
        return drive(execute(args.handler, args))
    except RpcError as exc:
        if not approved_volume(exc, args):
            raise
        return drive(execute(args.handler, args))


def main(argv: list[str] | None = None) -> NoReturn:
    argv_given = argv is not None
    argv = unless_mcp(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "run")  # `cai`, `cai --fresh` and `cai -- CMD` mean `cai run …`
    code = 0
    session = False
    try:
        args = parse(argv)
        if getattr(args, "local", None) is not None:  # not a protocol request
            raise _Done(args.local(args))
        session = args.handler.opens_session(args)
        result = answer(args)
        if rebuild_outdated(result, args):
            result = drive(execute(args.handler, args))
        code = finish(args, result, session)
    except _Done as done:
        code = done.code
    except Cancelled:  # `Cancelled.` is on stderr already; nothing changed
        code = 0
    except UsageError as exc:
        print(f"[ERROR] {printable(str(exc))}", file=sys.stderr)
        print("Use 'cai --help' for usage", file=sys.stderr)
        code = 1
    except RpcError as exc:
        from containai_rpc.cli.commands.sessions import failure_code
        from containai_rpc.cli.phrasing import phrase_error

        message, hint = phrase_error(exc.message, exc.data, argv[0])
        print(f"[ERROR] {printable(message)}", file=sys.stderr)
        if hint:
            print(f"[HINT] {printable(hint)}", file=sys.stderr)
        code = failure_code(exc.reason) if session else 1
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:  # `cai list --json | head`: the reader left; nothing to report
        pass
    if argv_given:
        sys.exit(code)
    # The `cai` process itself: nothing is left to clean up once the server has gone, so
    # skip the interpreter's teardown of thousands of classes (~70 ms of CPU per command).
    with contextlib.suppress(BrokenPipeError):
        sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
