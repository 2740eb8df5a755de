"""The collapse lab's report: PNG plots beside an HTML page and the metrics JSON.

Plots: held-out real perplexity per generation and regime; tail coverage per generation; distinct-2 per
generation; the verifier's kept fraction per generation (verified regimes); per-sample perplexity of each
generation's samples under the generation-0 model (Shumailov et al., Fig. 1b style histograms: collapse shows as
mass moving to low perplexity plus a long high tail); rank/frequency of words in the last generation's samples
against the real documents. The table shows beside each generation its training steps, the live guard's verdict on
its samples and, for a verified regime, the share of samples its verifier kept; a second table says what
verification cost (samples drawn, kept, shortfall, extra seconds, reasons).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from synthloop.store.atomic import atomic_write, atomic_write_json, atomic_write_text

COLUMNS = [
    ("real_perplexity", "real held-out perplexity", 1),
    ("samples_under_gen0/p50", "sample ppl under gen 0 (median)", 1),
    ("distinct_2", "distinct-2", 3),
    ("tail_coverage", "tail coverage", 3),
    ("head_coverage", "head coverage", 3),
    ("js_divergence", "JS divergence from real", 3),
    ("word_types", "word types", 0),
]


CONSOLE = ["real_perplexity", "tail_coverage", "distinct_2"]


def value(row: dict[str, Any], path: str) -> Any:
    for part in path.split("/"):
        row = row[part]
    return row


def kept_fraction(row: dict[str, Any]) -> float | None:
    return row["verification"]["kept_fraction"] if "verification" in row else None


def guard_verdict(row: dict[str, Any]) -> str:
    guard = row.get("guard")
    if not guard:
        return "-"
    return guard["verdict"] + (f" ({'; '.join(guard['violations'])})" if guard.get("violations") else "")


def console_table(results: dict[str, Any]) -> str:
    """The per-generation table `synthloop collapse` prints."""
    titles = {key: title for key, title, _ in COLUMNS}
    lines = [
        "regime               gen  steps  " + "  ".join(f"{titles[k][:24]:>24}" for k in CONSOLE) + "   kept  guard"
    ]
    for regime, rows in results["regimes"].items():
        for row in rows:
            digits = {key: d for key, _, d in COLUMNS}
            cells = "  ".join(f"{value(row, k):>24.{digits[k]}f}" for k in CONSOLE)
            kept = kept_fraction(row)
            shown = f"{kept:6.3f}" if kept is not None else "     -"
            lines.append(
                f"{regime:<20} {row['generation']:>4}  {row.get('steps', 0):>5}  {cells}  {shown}  {guard_verdict(row)}"
            )
    return "\n".join(lines)


def save(figure: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    figure.tight_layout()
    atomic_write(path, lambda temporary: figure.savefig(temporary, format="png", dpi=100))
    plt.close(figure)


def plots(results: dict[str, Any], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    verified = {regime: rows for regime, rows in results["regimes"].items() if "verification" in rows[0]}
    charts = [
        ("real_perplexity", "Perplexity on held-out real text"),
        ("tail_coverage", "Tail coverage"),
        ("distinct_2", "distinct-2 of samples"),
    ] + ([("kept_fraction", "Kept by the verifier")] if verified else [])
    for key, title in charts:
        figure, axis = plt.subplots(figsize=(6, 3.6))
        for regime, rows in (verified if key == "kept_fraction" else results["regimes"]).items():
            ys = [value(r, "verification/kept_fraction" if key == "kept_fraction" else key) for r in rows]
            axis.plot([r["generation"] for r in rows], ys, marker="o", label=regime)
        if key not in ("real_perplexity", "kept_fraction"):
            axis.axhline(value(results["real"], key), color="gray", linestyle="--", label="real documents")
        axis.set(title=title, xlabel="generation")
        axis.legend()
        save(figure, out / f"{key}.png")
        names.append(f"{key}.png")
    regimes = list(results["regimes"])
    figure, axes = plt.subplots(1, len(regimes), figsize=(4.5 * len(regimes), 3.4), squeeze=False)
    for axis, regime in zip(axes[0], regimes, strict=True):
        rows = results["regimes"][regime]
        values = [np.log10(np.maximum(1e-3, r["samples_under_gen0"]["values"])) for r in rows]
        edges = np.histogram_bin_edges(np.concatenate(values), bins=40)
        for row, data in zip(rows, values, strict=True):
            axis.hist(data, bins=edges, histtype="step", density=True, label=f"gen {row['generation']}")
        axis.set(title=f"{regime}: samples under gen 0", xlabel="log10 perplexity", ylabel="density")
        axis.legend(fontsize=7)
    save(figure, out / "sample_perplexity.png")
    figure, axis = plt.subplots(figsize=(6, 3.6))
    real = results["generation_0"]["rank_frequency"]
    axis.loglog(range(1, len(real) + 1), [c for _, c in real], label="generation 0 samples", color="gray")
    for regime, rows in results["regimes"].items():
        counts = [c for _, c in rows[-1]["rank_frequency"]]
        axis.loglog(range(1, len(counts) + 1), counts, label=f"{regime} gen {rows[-1]['generation']}")
    axis.set(title="Rank / frequency of words", xlabel="rank", ylabel="count")
    axis.legend()
    save(figure, out / "rank_frequency.png")
    return [*names, "sample_perplexity.png", "rank_frequency.png"]


def table_html(results: dict[str, Any]) -> str:
    head = (
        "<tr><th>regime</th><th>generation</th><th>steps</th>"
        + "".join(f"<th>{html.escape(t)}</th>" for _, t, _ in COLUMNS)
        + "<th>kept by verifier</th><th>guard verdict</th></tr>"
    )
    rows = []
    for regime, entries in results["regimes"].items():
        for row in entries:
            cells = "".join(f"<td>{value(row, key):.{digits}f}</td>" for key, _, digits in COLUMNS)
            kept = kept_fraction(row)
            rows.append(
                f"<tr><td>{html.escape(regime)}</td><td>{row['generation']}</td><td>{row.get('steps', '')}"
                f"</td>{cells}<td>{'-' if kept is None else f'{kept:.3f}'}</td>"
                f"<td>{html.escape(guard_verdict(row))}</td></tr>"
            )
    return f"<table>{head}{''.join(rows)}</table>"


def verification_html(results: dict[str, Any]) -> str:
    """What verification cost per generation: every sample drawn, what was kept, and why the rest was not."""
    rows = []
    for regime, entries in results["regimes"].items():
        for row in entries:
            if "verification" not in row:
                continue
            v = row["verification"]
            reasons = ", ".join(f"{k} {n}" for k, n in list(v["reasons"].items())[:5])
            rows.append(
                f"<tr><td>{html.escape(regime)}</td><td>{row['generation']}</td><td>{v['drawn']}</td>"
                f"<td>{v['kept']}</td><td>{v['used']}</td><td>{v['kept_fraction']:.3f}</td>"
                f"<td>{v['shortfall']}</td><td>{v['extra_samples']}</td><td>{v['extra_seconds']:.0f}</td>"
                f"<td style='text-align:left'>{html.escape(reasons)}</td></tr>"
            )
    if not rows:
        return ""
    head = (
        "<tr><th>regime</th><th>generation</th><th>drawn</th><th>kept</th><th>used</th><th>kept fraction</th>"
        "<th>shortfall</th><th>extra samples</th><th>extra seconds</th><th>top reasons</th></tr>"
    )
    settings = html.escape(json.dumps(results.get("verifiers", {})))
    return (
        f"<h2>Verification</h2><p>Verifiers: <code>{settings}</code>. The last generation's samples are only "
        f"verified (nothing trains on them).</p><table>{head}{''.join(rows)}</table>"
    )


def write_report(results: dict[str, Any], out: Path) -> Path:
    out = Path(out)
    images = plots(results, out)
    examples = "".join(
        f"<h3>{html.escape(regime)}, generation {rows[-1]['generation']}</h3>"
        + "".join(f"<pre>{html.escape(text)}</pre>" for text in rows[-1]["examples"])
        for regime, rows in results["regimes"].items()
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>synthloop collapse lab</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:right}"
        "pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em}img{max-width:100%}</style></head><body>"
        f"<h1>Model-collapse lab</h1><p>Real corpus: {html.escape(str(results.get('real_source', '')))}. "
        f"Wall time {results.get('wall_s', 0):.0f} s.</p>{table_html(results)}{verification_html(results)}"
        + "".join(f"<p><img src='{name}' alt='{name}'></p>" for name in images)
        + f"<h2>Example samples</h2>{examples}</body></html>"
    )
    atomic_write_text(out / "index.html", page)
    atomic_write_json(out / "metrics.json", results, indent=1, sort_keys=False)
    return out / "index.html"
