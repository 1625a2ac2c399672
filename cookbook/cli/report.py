"""The tour's report: every recipe's claim, verdict, numbers and plots in one page.

`write_report(out)` reads the `OUT/RECIPE/result.json` files of a run and writes
`OUT/report.md` and a self-contained `OUT/report.html` (plots embedded, no network
needed). It depends only on those files, so rebuilding it gives the same bytes.
"""

import base64
import html
import json
import math
import re
import sys
import urllib.parse
from pathlib import Path

from cookbook.cli.registry import available_recipes
from cookbook.errors import CookbookError
from cookbook.results import write_text_atomic

# Drawn by the harness: where along its regime axis the claim held, and what the verdict rests on.
EVIDENCE_PLOTS = ("regime.png", "evidence.png")
# Bookkeeping, not measures of a claim: how the runs were executed and timed.
SKIPPED_FIELDS = ("seed", "epochs_trained", "fit_seconds", "steps_per_execution")
ENVIRONMENT_FIELDS = ("cookbook", "python", "tensorflow", "keras", "tensorflow_datasets", "platform", "cpu_count")


# The class each verdict gets on the page (`STYLE` colours them); anything else is "unknown".
VERDICT_CLASSES = {
    verdict: verdict.replace(" ", "-") for verdict in ("holds", "does not hold", "inconclusive", "failed", "skipped")
}
PLOT_NAME = re.compile(r"[\w.\-]+\.png")  # a file name in the recipe's folder, no path
REQUIRED_FIELDS = {"recipe": str, "claim": str, "verdict": str, "evidence": str, "seconds": (int, float)}


def read_results(out):
    """The results under `out`, in tour order (unknown recipes last).

    A result that cannot be read (truncated, not a result, a folder in its place) is
    skipped with a one-line warning, so one bad file does not cost the others their report.
    """
    results = []
    for path in sorted(Path(out).glob("*/result.json")):
        try:
            result = json.loads(path.read_text())
            missing = [key for key, kind in REQUIRED_FIELDS.items() if not isinstance(result.get(key), kind)]
            if missing:
                raise ValueError(f"no {', '.join(missing)}")
            if result["recipe"] != path.parent.name:  # its plots are read from that folder
                raise ValueError(f"its recipe is {result['recipe']!r}, not its folder's name")
        except (OSError, ValueError, AttributeError) as error:
            print(f"Warning: skipping {path}, which is not a readable result ({error}).", file=sys.stderr)
            continue
        results.append(result)
    if not results:
        raise CookbookError(f"No results in {out!r}: run `cookbook run all --out {out}` first.")
    order = {name: index for index, name in enumerate(available_recipes())}
    return sorted(results, key=lambda r: (order.get(r["recipe"], len(order)), r["recipe"]))


def plots_of(result, out):
    """The result's plots that exist beside it (a plot deleted since is left out): PNG files
    in its own folder, never a path that leads elsewhere."""
    plots = result.get("plots") or []
    return [
        plot
        for plot in plots
        if isinstance(plot, str) and PLOT_NAME.fullmatch(plot) and (Path(out) / result["recipe"] / plot).is_file()
    ]


# Markdown's characters that can make markup of text: emphasis, code, links and images,
# headings' closing marks, strikethrough, table cells, and backslash itself. An underscore
# inside a word (`test_accuracy`) emphasizes nothing, so it stays as it reads.
MARKDOWN_MARKUP = re.compile(r"([\\`*\[\]#|~]|(?<![^\W_])_|_(?![^\W_]))")


def md(value):
    """`value` as Markdown text: on one line, with HTML and Markdown markup escaped, so a
    result's strings read as written and never become tags, links, images or table cells."""
    text = html.escape(" ".join(str(value).split()), quote=False)
    return MARKDOWN_MARKUP.sub(r"\\\1", text)


def md_link(name):
    """`name` (a recipe's folder) as part of a Markdown link's address."""
    return urllib.parse.quote(name, safe="")


def number(value):
    if value is None:
        return "n/a"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"  # counts (parameters, FLOPs, epochs) averaged over seeds
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _mapping(value):
    return value if isinstance(value, dict) else {}


def tuned_name(variant, nuisance):
    """`adam (learning_rate 0.003)`: a variant with the nuisance point its seeds trained at."""
    point = ", ".join(f"{name} {number(value)}" for name, value in _mapping(nuisance).items())
    return f"{variant} ({point})" if point else variant


def measure_table(result):
    """`(measures, rows)`: a row per variant, `(variant, [(mean ± std, per-seed values) per measure])`,
    over every numeric measure the variants' summaries share (those some lack are left blank)."""
    variants = {
        tuned_name(name, _mapping(content).get("nuisance")): _mapping(_mapping(content).get("summary"))
        for name, content in _mapping(result.get("variants")).items()
    }
    measures = []
    for summary in variants.values():
        for measure, stats in summary.items():
            if measure not in SKIPPED_FIELDS and isinstance(stats, dict) and measure not in measures:
                measures.append(measure)
    rows = []
    for name, summary in variants.items():
        cells = []
        for measure in measures:
            stats = _mapping(summary.get(measure))
            if not stats:
                cells.append(("", ""))
                continue
            values, mean = stats.get("values", []), number(stats.get("mean"))
            shown = (
                f"{mean} (1 seed)"
                if stats.get("measured", len(values)) == 1
                else f"{mean} ± {number(stats.get('std'))}"
            )
            cells.append((shown, ", ".join(number(v) for v in values)))
        rows.append((name, cells))
    return measures, rows


def settings(result):
    config = _mapping(result.get("config"))
    shown = {**_mapping(config.get("resolved")), "dataset": config.get("dataset"), "quick": config.get("quick")}
    scale = _mapping(result.get("scale"))
    shown.update({key: value for key, value in scale.items() if key in ("device", "strategy", "replicas")})
    return ", ".join(f"{key} {value}" for key, value in shown.items())


def environment_line(results):
    env = next((result["environment"] for result in results if isinstance(result.get("environment"), dict)), {})
    devices = ", ".join(device.get("name", "?") for device in env.get("devices", []) if isinstance(device, dict))
    fields = ", ".join(f"{key} {env[key]}" for key in ENVIRONMENT_FIELDS if key in env)
    return f"{fields}; devices: {devices}"


def regime_table(result):
    """`(axis, parts, rows)`: a row per point of the regime axis, `(point, verdict, [cell per
    part])`, each cell the part's verdict with its estimate and interval; `None` without one."""
    regime = _mapping(_mapping(result.get("measurements")).get("regime"))
    points = _mapping(regime.get("points"))
    if not points:
        return None
    parts = []
    for point in points.values():
        parts += [part for part in _mapping(_mapping(point).get("parts")) if part not in parts]
    rows = []
    for name, point in points.items():
        cells = []
        for part in parts:
            found = _mapping(_mapping(_mapping(point).get("parts")).get(part))
            interval = found.get("interval")
            shown = str(found.get("verdict", ""))
            if isinstance(interval, list) and len(interval) == 2:
                # JSON has no infinity: an unbounded end (a censored value) is written as null
                low = "-inf" if interval[0] is None else number(interval[0])
                high = "inf" if interval[1] is None else number(interval[1])
                shown += f" ({number(found.get('estimate'))}; {low} to {high})"
            cells.append(shown)
        anchor = " (anchor)" if str(regime.get("anchor")) == name else ""
        rows.append((f"{name}{anchor}", str(_mapping(point).get("verdict", "")), cells))
    return str(regime.get("axis", "regime")), parts, rows


def regime_map(results):
    """One row per recipe with a regime: `(recipe, axis, [(point, verdict, is_anchor)])`,
    read from each result's regime (a recipe without one has no row)."""
    rows = []
    for result in results:
        regime = _mapping(_mapping(result.get("measurements")).get("regime"))
        points = _mapping(regime.get("points"))
        if points:
            cells = [(str(name), str(_mapping(point).get("verdict", "")), str(regime.get("anchor")) == name)
                     for name, point in points.items()]  # fmt: skip
            rows.append((str(result["recipe"]), str(regime.get("axis", "regime")), cells))
    return rows


def markdown_regime_map(results):
    """The regime map as a Markdown table: each recipe's points with their verdicts, the
    anchor's point in bold and marked."""
    rows = regime_map(results)
    if not rows:
        return []

    def cell(point, verdict, anchor):
        text = f"{md(point)}: {md(verdict)}"
        return f"**{text} (anchor)**" if anchor else text

    return [
        "Where each guideline held, along its regime axis:",
        "",
        "| recipe | regime axis | verdict at each point |",
        "|---|---|---|",
        *(
            f"| [{md(recipe)}](#{md_link(recipe)}) | {md(axis)} | " + "; ".join(cell(*c) for c in cells) + " |"
            for recipe, axis, cells in rows
        ),
        "",
    ]


def html_regime_map(results):
    e = html.escape
    rows = regime_map(results)
    if not rows:
        return []
    widest = max(len(cells) for _, _, cells in rows)

    def cell(point, verdict, anchor):
        text = f"{e(point)}<br>{e(verdict)}"
        return f'<td class="{verdict_class(verdict)}">' + (f"<b>&#9733; {text}</b>" if anchor else text) + "</td>"

    return [
        "<p>Where each guideline held, along its regime axis (&#9733;: the anchor paper's point):</p>",
        f'<table><tr><th>recipe</th><th>regime axis</th><th colspan="{widest}">verdict at each point</th></tr>',
        *(
            f'<tr><td><a href="#{e(recipe)}">{e(recipe)}</a></td><td>{e(axis)}</td>'
            + "".join(cell(*c) for c in cells)
            + "</tr>"
            for recipe, axis, cells in rows
        ),
        "</table>",
    ]


def markdown_regime(result):
    found = regime_table(result)
    if found is None:
        return []
    axis, parts, rows = found
    return [
        f"| {md(axis)} | verdict | " + " | ".join(map(md, parts)) + " |",
        "|---" * (len(parts) + 2) + "|",
        *(f"| {md(point)} | {md(verdict)} | " + " | ".join(map(md, cells)) + " |" for point, verdict, cells in rows),
        "",
    ]


def html_regime(result):
    e = html.escape
    found = regime_table(result)
    if found is None:
        return []
    axis, parts, rows = found
    return [
        f"<table><tr><th>{e(axis)}</th><th>verdict</th>" + "".join(f"<th>{e(p)}</th>" for p in parts) + "</tr>",
        *(
            f'<tr><td>{e(point)}</td><td class="{verdict_class(verdict)}">{e(verdict)}</td>'
            + "".join(f"<td>{e(cell)}</td>" for cell in cells)
            + "</tr>"
            for point, verdict, cells in rows
        ),
        "</table>",
    ]


def markdown_table(result):
    """Variants as rows, measures as columns, each cell the mean ± the spread over seeds."""
    measures, rows = measure_table(result)
    if not rows:
        return []
    return [
        "| variant | " + " | ".join(map(md, measures)) + " |",
        "|---" * (len(measures) + 1) + "|",
        *(f"| {md(name)} | " + " | ".join(md(shown) for shown, _ in cells) + " |" for name, cells in rows),
    ]


def html_table(result):
    """As `markdown_table`, each cell's title giving every seed's value."""
    e = html.escape
    measures, rows = measure_table(result)
    if not rows:
        return []
    return [
        "<table><tr><th>variant</th>" + "".join(f"<th>{e(m)}</th>" for m in measures) + "</tr>",
        *(
            f"<tr><td>{e(name)}</td>"
            + "".join(f'<td title="per seed: {e(seeds)}">{e(shown)}</td>' for shown, seeds in cells)
            + "</tr>"
            for name, cells in rows
        ),
        "</table>",
    ]


def wall_seconds(results):
    """The time while at least one recipe ran: the union of their `[finished_at - seconds,
    finished_at]` spans, so recipes run at once count once and the pause before a resumed
    run not at all. None where a result that took time does not say when it finished."""
    spans = []
    for result in results:
        finished, seconds = result.get("finished_at"), result["seconds"]
        if seconds == 0:
            continue  # skipped before it started: no span
        if not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (finished, seconds)
        ):
            return None
        spans.append((finished - max(seconds, 0.0), finished))
    wall, reached = 0.0, float("-inf")
    for start, end in sorted(spans):
        wall += max(0.0, end - max(start, reached))
        reached = max(reached, end)
    return wall


def total_time(results):
    """The report's "Total time" line: the wall time, and the recipes' own times where
    running at once made them add up to more."""
    added, wall = sum(result["seconds"] for result in results), wall_seconds(results)
    count = f"{len(results)} recipe{'s' * (len(results) != 1)}"
    if wall is None:
        return f"Total time: the recipes' own times add up to {added / 60:.1f} minutes for {count}."
    line = f"Total time: {wall / 60:.1f} minutes (wall clock) for {count}"
    if added > wall * 1.01:
        line += f"; their own times add up to {added / 60:.1f} minutes, as some ran at once"
    return line + "."


def render_markdown(results, out):
    lines = [
        "# The guideline tour",
        "",
        f"Environment: {md(environment_line(results))}.",
        "",
        md(total_time(results)),
        "",
        "| recipe | verdict | minutes |",
        "|---|---|---|",
        *(
            f"| [{md(r['recipe'])}](#{md_link(r['recipe'])}) | **{md(r['verdict'])}** | {r['seconds'] / 60:.1f} |"
            for r in results
        ),
        "",
        *markdown_regime_map(results),
    ]
    for result in results:
        name = result["recipe"]
        lines += [
            "",
            f"## {md(name)}",
            "",
            f"**Claim.** {md(result['claim'])}",
            "",
            f"**Verdict: {md(result['verdict'])}.** {md(result['evidence'])}",
            "",
            f"Settings: {md(settings(result))}. Time: {result['seconds']:.0f} s.",
            "",
        ]
        evidence, others = split_plots(result, out)
        lines += [*markdown_regime(result), *(f"![{plot}]({md_link(name)}/{plot})" for plot in evidence), ""]
        lines += [*markdown_table(result), ""]
        lines += [f"![{plot}]({md_link(name)}/{plot})" for plot in others]
    return "\n".join(lines) + "\n"


STYLE = """
body { font-family: sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
.holds { color: #176f2c; } .does-not-hold { color: #a11; } .inconclusive { color: #8a6d00; }
.failed { color: #a11; } .skipped { color: #666; }
td.holds { background: #e3f4e6; } td.does-not-hold { background: #fbe4e4; } td.inconclusive { background: #fbf3d9; }
img { max-width: 100%; display: block; margin: 1em 0; }
"""

# Marks the page once every embedded plot has decoded, so a headless browser can check it.
CHECK_IMAGES = """
window.addEventListener("load", function () {
  var images = Array.from(document.images);
  var ok = images.every(function (image) { return image.complete && image.naturalWidth > 0; });
  document.body.setAttribute("data-images", ok ? "ok" : "broken");
});
"""


def verdict_class(verdict):
    """The page's CSS class for `verdict`: one of the known verdicts' classes, never its text."""
    return VERDICT_CLASSES.get(verdict, "unknown")


def image(out, name, plot):
    e = html.escape
    encoded = base64.b64encode((Path(out) / name / plot).read_bytes()).decode()
    return f'<img alt="{e(name)}: {e(plot)}" src="data:image/png;base64,{encoded}">'


def split_plots(result, out):
    """`(evidence chart, other plots)`: the chart of what the verdict rests on comes first."""
    plots = plots_of(result, out)
    return [p for p in plots if p in EVIDENCE_PLOTS], [p for p in plots if p not in EVIDENCE_PLOTS]


def render_html(results, out):
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>The guideline tour</title>',
        f"<style>{STYLE}</style><script>{CHECK_IMAGES}</script></head><body>",
        "<h1>The guideline tour</h1>",
        f"<p>Environment: {e(environment_line(results))}.</p>",
        f"<p>{e(total_time(results))}</p>",
        "<table><tr><th>recipe</th><th>verdict</th><th>minutes</th></tr>",
        *(
            f'<tr><td><a href="#{e(r["recipe"])}">{e(r["recipe"])}</a></td>'
            f'<td class="{verdict_class(r["verdict"])}"><b>{e(r["verdict"])}</b></td>'
            f"<td>{r['seconds'] / 60:.1f}</td></tr>"
            for r in results
        ),
        "</table>",
        *html_regime_map(results),
    ]
    for result in results:
        name = result["recipe"]
        parts += [
            f'<section id="{e(name)}"><h2>{e(name)}</h2>',
            f"<p><b>Claim.</b> {e(result['claim'])}</p>",
            f'<p class="{verdict_class(result["verdict"])}"><b>Verdict: {e(result["verdict"])}.</b></p>',
            f"<p>{e(result['evidence'])}</p>",
            f"<p>Settings: {e(settings(result))}. Time: {result['seconds']:.0f} s.</p>",
        ]
        evidence, others = split_plots(result, out)
        parts += [*html_regime(result), *(image(out, name, plot) for plot in evidence), *html_table(result)]
        parts += [*(image(out, name, plot) for plot in others), "</section>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(out):
    """Writes `OUT/report.md` and `OUT/report.html` from the results in `out`; returns both paths."""
    results = read_results(out)
    markdown, page = Path(out) / "report.md", Path(out) / "report.html"
    for path, text in ((markdown, render_markdown(results, out)), (page, render_html(results, out))):
        try:
            write_text_atomic(path, text)
        except OSError as error:
            raise CookbookError(f"Cannot write the report to {str(path)!r} ({error.strerror}).") from None
    return markdown, page
