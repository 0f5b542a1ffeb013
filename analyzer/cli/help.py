"""The help screens, worded like other tools': `Usage: ovs-analyzer analyze [OPTIONS] BUNDLE`, an
option's value named by what it is (`--out DIR`, `--cap NAME=N`), nothing after a flag (it takes
no value), and under each command only the exit codes it can give.

Typer shows a parameter's Python type (`<bool>`, `<list[Path]>`) and a required argument as
`{bundle}`; `HelpCommand` and `HelpGroup` (the `cls` of every command and group) show the metavar
instead, which every option that takes a value declares.
"""

from __future__ import annotations

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


def epilog(*codes: str, writes: bool = False) -> str:
    """The exit codes a command can give (analyzer/cli/app.py's EXIT_*): its own `codes` ("0 ...",
    "3 ..."), then those every command gives; `writes`: it writes an output folder, which may be full
    or forbidden."""
    usage = "2 unusable input or arguments" + (", or a full or forbidden output folder" if writes else "")
    # --debug is taken out of the arguments before they are parsed (it works anywhere on the line),
    # so no option lists it: it is named here, where the code it explains is
    internal = "1 internal error (add --debug, or set OVS_ANALYZER_DEBUG=1, for its traceback)"
    return "Exit codes: " + "; ".join((*codes, usage, internal, "130 interrupted",
                                       "141 stdout closed early (| head)")) + "."


class _Argument(TyperArgument):
    """An argument shown by its metavar alone: BUNDLE, [PATH]..., never `{bundle} <path>`."""

    def _rich_display_name(self) -> str:
        return f"{self.display_name_raw}{'...' if self.nargs != 1 else ''}"

    def _usage_display_name(self) -> str:
        name = self._rich_display_name()
        return name if self.required else f"[{name}]"

    def display_type_rich(self, ctx: object) -> None:  # the metavar says it already
        return None


def _plain(params: list) -> list:
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""  # a flag takes no value: show none, not <bool>
        elif type(param) is TyperArgument:
            param.metavar = param.metavar or param.name.upper()
            param.__class__ = _Argument  # typer builds its own; only how it is shown changes
    return params


class HelpCommand(TyperCommand):
    """A command whose help shows metavars (see the module doc)."""

    def get_params(self, ctx: object) -> list:
        return _plain(super().get_params(ctx))


class HelpGroup(TyperGroup):
    """A group (the tool, `rules`) whose help shows metavars (see the module doc)."""

    def get_params(self, ctx: object) -> list:
        return _plain(super().get_params(ctx))
