"""Render metrics.json as one self-contained HTML page.

Every number shown carries `data-metric="<json path>"` (e.g. "dataset/distinct_2"; "/" because reason codes
contain dots), so a test (or a reader's
script) can check the page against metrics.json. All text from the data is HTML-escaped: model output is untrusted.
"""

from __future__ import annotations

import html
from typing import Any

from synthloop.report import plots

CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:0}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.grid{display:flex;flex-wrap:wrap;gap:1em}
img{max-width:100%;border:1px solid #eee}.note{color:#666;font-size:.9em}
"""


def _get(metrics: dict[str, Any], path: str) -> Any:
    value: Any = metrics
    for part in path.split("/"):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def number(metrics: dict[str, Any], path: str, digits: int = 3) -> str:
    value = _get(metrics, path)
    if value is None:
        return "<span class='note'>n/a</span>"
    shown = f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    return f'<span data-metric="{html.escape(path)}">{shown}</span>'


def image(png: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png}">'


def table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def diversity_section(m: dict[str, Any]) -> str:
    sides = ["dataset"] + (["reference"] if "reference" in m else [])
    rows = []
    for label, key, digits in [
        ("stories", "stories", 0),
        ("distinct-1", "distinct_1", 3),
        ("distinct-2", "distinct_2", 3),
        ("distinct-3", "distinct_3", 3),
        ("compression ratio (gzip)", "compression_ratio", 2),
        ("self-BLEU (sampled)", "self_bleu", 3),
        ("top-10 opening share", "openings/top10_share", 3),
        ("'once upon a time' share", "openings/once_upon_a_time_share", 3),
        ("mean pairwise cosine (MiniLM, sampled)", "embedding/mean_pairwise_cosine", 3),
        ("Vendi score (sampled)", "embedding/vendi_score", 1),
        ("words per story, median", "words/p50", 0),
        ("Flesch-Kincaid grade, median", "fk_grade/p50", 2),
    ]:
        rows.append([label] + [number(m, f"{side}/{key}", digits) for side in sides])
    openings = [[html.escape(o["opening"]), f"{o['share']:.3f}"] for o in m["dataset"]["openings"]["top_openings"]]
    histograms = [
        image(plots.histogram("story length", "words", {s: m[s]["lengths"] for s in sides}), "length histogram"),
        image(
            plots.histogram("readability", "Flesch-Kincaid grade", {s: m[s]["grades"] for s in sides}),
            "readability histogram",
        ),
    ]
    return (
        f"<h2>Diversity</h2>{table(['metric', *sides], rows)}<div class='grid'>{''.join(histograms)}</div>"
        f"<h3>Most common openings (first five words)</h3>{table(['opening', 'share'], openings)}"
    )


def coverage_section(m: dict[str, Any]) -> str:
    sides = ["coverage"] + (["reference_coverage"] if "reference_coverage" in m else [])
    rows = [
        [label] + [number(m, f"{side}/{key}", digits) for side in sides]
        for label, key, digits in [
            ("vocabulary size", "vocabulary_size", 0),
            ("words requested by prompts", "requested_words", 0),
            ("requested words used in their stories' data", "requested_words_used", 0),
            ("vocabulary words used anywhere", "vocabulary_words_used", 0),
            ("share of vocabulary used", "vocabulary_used_share", 3),
            ("share of the vocabulary's rare half used", "rare_half_used_share", 3),
            ("prompt words (nouns, verbs, adjectives) asked for by >= 1 story", "prompt_words/share_asked_1", 3),
            ("... by >= 3 stories", "prompt_words/share_asked_3", 3),
            ("Gini of stories per prompt word (0 = even)", "prompt_words/gini", 3),
        ]
    ]
    series = {"dataset" if side == "coverage" else "reference": m[side]["rank_frequency"] for side in sides}
    plot = image(plots.rank_frequency(series), "rank frequency")
    headers = ["", "dataset"] + (["reference"] if len(sides) > 1 else [])
    return f"<h2>Vocabulary coverage</h2>{table(headers, rows)}{plot}"


def constraints_section(m: dict[str, Any]) -> str:
    c = m["constraints"]
    rows = [[html.escape(role), number(m, f"constraints/by_pos/{role}")] for role in c["by_pos"]]
    rows.append(["all three words", number(m, "constraints/all_words")])
    features = [
        [html.escape(f), str(v["stories"]), number(m, f"constraints/by_feature/{f}/all_words")]
        for f, v in c["by_feature"].items()
    ]
    out = (
        f"<h2>Constraints and curation</h2><p class='note'>Constraint success over every generated story, "
        f"before curation.</p>{table(['required word', 'success rate'], rows)}"
        f"{table(['feature', 'stories', 'all three words used'], features)}"
    )
    curation = m.get("curation")
    if curation:
        reasons = sorted(curation["dropped"].items(), key=lambda item: -item[1])
        rows = [
            [html.escape(r), number(m, f"curation/dropped/{r}", 0), number(m, f"curation/dropped_first_reason/{r}", 0)]
            for r, _ in reasons
        ]
        out += (
            f"<p>kept {number(m, 'curation/kept', 0)} of {number(m, 'curation/total', 0)} "
            f"({number(m, 'curation/kept_rate')})</p>{table(['reason', 'dropped', 'first reason'], rows)}"
        )
        if reasons:
            out += image(plots.bars("dropped by reason", [r for r, _ in reasons], [c for _, c in reasons]), "reasons")
    return out


def quality_section(m: dict[str, Any]) -> str:
    quality = m.get("quality")
    if not quality:
        return ""
    sides = ["kept", "excluded"]
    rows = [["stories scored"] + [number(m, f"quality/scored/{side}", 0) for side in sides]]
    for stat in ("mean", "p10", "p50", "p90"):
        rows.append([f"quality.score {stat}"] + [number(m, f"quality/distribution/{side}/{stat}") for side in sides])
    plot = image(plots.histogram("quality score", "quality.score", quality["scores"], bins=20), "quality histogram")
    columns = (("labelled", 0), ("labelled_keep", 0), ("precision", 3), ("recall", 3), ("accuracy", 3))
    labelled = [
        [html.escape(source)] + [number(m, f"quality/labelled/{source}/{key}", digits) for key, digits in columns]
        for source in quality["labelled"]
    ]
    headers = ["labels from", "labelled", "labelled keep", "precision", "recall", "accuracy"]
    note = "<p class='note'>No labelled stories (judge.keep scores or applied review decisions).</p>"
    return (
        "<h2>Quality</h2><p class='note'>The quality filter's score (the probability that a story is keep-worthy) "
        "over kept and excluded stories, and its keep (score at or above its threshold) against the labels.</p>"
        f"{table(['', *sides], rows)}{plot}{table(headers, labelled) if labelled else note}"
    )


def bias_section(m: dict[str, Any]) -> str:
    sides = list(m["bias"])
    rows = [
        [label] + [number(m, f"bias/{side}/{key}", digits) for side in sides]
        for label, key, digits in [
            ("female pronouns", "pronouns/female", 0),
            ("male pronouns", "pronouns/male", 0),
            ("female share of pronouns", "pronouns/female_share", 3),
            ("female names", "names/female", 0),
            ("male names", "names/male", 0),
            ("female share of names", "names/female_share", 3),
        ]
    ]
    verbs = []
    for side in sides:
        for pronoun, top in m["bias"][side]["verbs_after_pronoun"].items():
            verbs.append([f"{html.escape(side)}: {pronoun}", html.escape(", ".join(f"{v} ({n})" for v, n in top))])
    occupations = [
        [html.escape(f"{side}: {job}"), str(c.get("female", 0)), str(c.get("male", 0))]
        for side in sides
        for job, c in sorted(m["bias"][side]["occupations"].items())
    ]
    return (
        f"<h2>Bias audit</h2>{table(['', *sides], rows)}<h3>Verbs after he / she</h3>"
        f"{table(['who', 'top verbs'], verbs)}<h3>Occupations in sentences with only female / only male "
        f"pronouns</h3>{table(['occupation', 'female', 'male'], occupations)}"
    )


def reference_section(m: dict[str, Any]) -> str:
    if "mauve" not in m:
        return "<h2>Reference comparison</h2><p class='note'>No reference corpus given (--reference).</p>"
    name = html.escape(str(m["reference"].get("name")))
    plot = image(plots.frontier([tuple(p) for p in m["mauve"]["frontier"]], m["mauve"]["mauve"]), "frontier")
    return (
        f"<h2>Reference comparison</h2><p>Reference: {name}. MAUVE (static MiniLM embeddings, "
        f"{number(m, 'mauve/clusters', 0)} k-means clusters): <b>{number(m, 'mauve/mauve')}</b> "
        f"(1 = same distribution).</p>{plot}"
    )


def review_section(m: dict[str, Any]) -> str:
    review = m.get("review")
    if not review:
        return ""
    rows = [[html.escape(name), number(m, f"review/counts/{name}", 0)] for name in review["counts"]]
    pairs = [
        [html.escape(" & ".join(p["reviewers"])), str(p["items"]), number(m, f"review/agreement/pairs/{i}/kappa")]
        for i, p in enumerate(review["agreement"]["pairs"])
    ]
    return (
        f"<h2>Human review</h2><p>{number(m, 'review/decisions', 0)} decisions; kept "
        f"{number(m, 'review/kept', 0)}, excluded {number(m, 'review/excluded', 0)}; "
        f"{number(m, 'review/agreement/items_double_reviewed', 0)} items double-reviewed, Cohen's kappa "
        f"{number(m, 'review/agreement/kappa')}, {number(m, 'review/agreement/conflicts', 0)} conflicts "
        f"(resolved by rule: {html.escape(str(review['on_conflict']))}).</p>"
        f"{table(['outcome (part before->after, status)', 'stories'], rows)}"
        f"{table(['reviewers', 'shared items', 'kappa'], pairs) if pairs else ''}"
    )


def guard_section(m: dict[str, Any]) -> str:
    guard = m.get("guard")
    if not guard or not guard.get("summary"):
        return ""
    s = guard["summary"]
    violations = "".join(f"<li>{html.escape(v)}</li>" for v in s["last"]["violations"])
    return (
        f"<h2>Collapse guard</h2><p>Verdict: <b>{html.escape(s['verdict'])}</b> "
        f"({number(m, 'guard/summary/failed_checks', 0)} of {number(m, 'guard/summary/checks', 0)} checks failed, "
        f"action {html.escape(s['action'])}). Last check after {number(m, 'guard/summary/last/stories', 0)} stories: "
        f"distinct-2 ratio {number(m, 'guard/summary/last/distinct_2_ratio', 2)}, tail coverage ratio "
        f"{number(m, 'guard/summary/last/tail_coverage_ratio', 2)}, JS divergence "
        f"{number(m, 'guard/summary/last/js_divergence', 2)} (vs "
        f"{html.escape(str(guard['config'].get('reference')))}).</p>{f'<ul>{violations}</ul>' if violations else ''}"
    )


def cost_section(m: dict[str, Any]) -> str:
    if not m.get("cost"):
        return ""
    return (
        f"<h2>Cost</h2><p>{number(m, 'cost/usd', 4)} USD for the {number(m, 'cost/stories', 0)} stories behind "
        f"this dataset ({number(m, 'cost/tokens_in', 0)} tokens in, {number(m, 'cost/tokens_out', 0)} out, retries "
        f"included), {number(m, 'cost/usd_per_kept_story', 6)} USD per kept story; the generation run, failed "
        f"prompts included: {number(m, 'cost/generation_usd', 4)} USD (batch discount "
        f"{number(m, 'cost/batch_discount', 2)}).</p>"
    )


def parameters_section(m: dict[str, Any]) -> str:
    p = m.get("parameters")
    if not p:
        return ""
    rows = [
        [
            html.escape(name),
            number(m, f"parameters/parameters/{name}/values_used", 0),
            number(m, f"parameters/parameters/{name}/values_possible", 0),
            number(m, f"parameters/parameters/{name}/most_common_share", 2),
        ]
        for name in p["parameters"]
    ]
    pairs = [
        [
            html.escape(name),
            number(m, f"parameters/pairs/{name}/pairs_used", 0),
            number(m, f"parameters/pairs/{name}/pairs_possible", 0),
            number(m, f"parameters/pairs/{name}/share_used", 4),
        ]
        for name in p["pairs"]
    ]
    return (
        f"<h2>Prompt parameters</h2><p>{number(m, 'parameters/distinct_combinations', 0)} distinct combinations "
        f"over {number(m, 'parameters/stories', 0)} stories.</p>"
        f"{table(['parameter', 'values used', 'values possible', 'most common share'], rows)}"
        f"{table(['pair', 'pairs used', 'pairs possible', 'share'], pairs)}"
    )


def nothing_kept_section(m: dict[str, Any]) -> str:
    curation = m.get("curation")
    why = (
        f"curation kept none of the {number(m, 'curation/total', 0)} stories it judged"
        if curation
        else "the dataset holds no story with text"
    )
    return (
        f"<h2>Nothing was kept</h2><p><b>Nothing was kept</b>: {why}, so the dataset has "
        f"{number(m, 'dataset/stories', 0)} stories and there is no text to measure. Below: what the prompts asked "
        "for, and what was dropped and why.</p>"
    )


def render(metrics: dict[str, Any], title: str) -> str:
    if metrics.get("nothing_kept"):
        return page(
            title,
            [
                nothing_kept_section(metrics),
                constraints_section(metrics),
                quality_section(metrics),
                cost_section(metrics),
                review_section(metrics),
                guard_section(metrics),
            ],
        )
    sections = [
        diversity_section(metrics),
        coverage_section(metrics),
        constraints_section(metrics),
        quality_section(metrics),
        parameters_section(metrics),
        cost_section(metrics),
        review_section(metrics),
        guard_section(metrics),
        bias_section(metrics),
        reference_section(metrics),
    ]
    return page(title, sections)


def page(title: str, sections: list[str]) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1><p class='note'>synthloop report; "
        f"numbers are in metrics.json beside this page.</p>{''.join(sections)}</body></html>"
    )
