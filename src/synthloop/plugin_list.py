"""`synthloop plugins [--options]`: every registered backend, filter and recipe, with its options (simonw/llm's
`llm models --options`), read from the plugins' own declarations, so the list cannot fall behind the code."""

from __future__ import annotations

from typing import Any

from pydantic.fields import FieldInfo

from synthloop import plugins


def option_line(name: str, info: FieldInfo, non_content: frozenset[str]) -> str:
    default: Any = "required" if info.is_required() else f"default {info.get_default(call_default_factory=True)!r}"
    annotation = info.annotation
    kind = annotation.__name__ if isinstance(annotation, type) else str(annotation)
    kind = kind.replace("typing.", "").replace("pathlib.", "")
    speed = "; does not change content" if name in non_content else ""
    return f"    {name} ({kind}, {default}{speed}): {info.description or ''}".rstrip(": ")


def plugin_lines(with_options: bool = False) -> list[str]:
    lines = []
    for kind, table in plugins.KINDS.items():
        lines.append(f"{kind}s:")
        for name, cls in sorted(table().items()):
            needs = ", ".join(r.module for r in cls.requires)
            lines.append(f"  {name}" + (f" (needs {needs})" if needs else ""))
            if with_options:
                for option, info in cls.Options.model_fields.items():
                    lines.append(option_line(option, info, cls.non_content))
    return lines


def list_plugins(with_options: bool = False) -> int:
    print("\n".join(plugin_lines(with_options)))
    return 0


def add_command(commands: Any) -> None:
    """Registers `synthloop plugins` on the CLI's subcommands."""
    listing = commands.add_parser("plugins", help="list every backend, filter and recipe (--options: with options)")
    listing.add_argument("--options", action="store_true", help="show each plugin's options")
    listing.set_defaults(func=lambda args: list_plugins(args.options))
