"""The recipes' pictures: PNG files via matplotlib, no display needed."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(figure, path):
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def plot_curves(
    curves,
    path,
    *,
    ylabel,
    xlabel="epoch",
    title=None,
    log_y=False,
    log_x=False,
    hline=None,
    x_values=None,
):
    """One line per variant: the mean over seeds, with the seed-to-seed range shaded.

    `curves` maps a variant name to a list of per-seed curves (lists of numbers);
    runs that stopped early (a NaN loss) are cut to the shortest length. `hline`
    draws a dashed reference line, such as a target accuracy. `x_values` maps a
    variant to its x coordinates (updates, seconds, ...); epochs 1, 2, ... otherwise.
    """
    figure, axes = plt.subplots(figsize=(6.4, 4.2))
    for name, runs in curves.items():
        length = min(len(run) for run in runs)
        values = np.array([run[:length] for run in runs], dtype=float)
        x = np.arange(1, length + 1) if x_values is None else np.asarray(x_values[name][:length])
        # Markers, so that a one-epoch run still shows its point.
        (line,) = axes.plot(x, np.nanmean(values, axis=0), label=name, marker="o", markersize=3)
        if len(runs) > 1:
            axes.fill_between(
                x,
                np.nanmin(values, axis=0),
                np.nanmax(values, axis=0),
                color=line.get_color(),
                alpha=0.2,
            )
    if hline is not None:
        axes.axhline(hline, color="grey", linestyle="--", linewidth=1)
    axes.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if log_y:
        axes.set_yscale("log")
    if log_x:
        axes.set_xscale("log")
    axes.grid(alpha=0.3)
    axes.legend()
    return _save(figure, path)


def plot_layer_profiles(panels, layer_names, path, *, ylabel, title=None):
    """Per-layer values (for example gradient norms), one panel per moment, one line per variant.

    `panels` maps a panel title to `{variant: per-layer values}`; the y axis is log.
    """
    figure, all_axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), sharey=True, squeeze=False)
    for axes, (panel, profiles) in zip(all_axes[0], panels.items()):
        for name, values in profiles.items():
            axes.plot(range(1, len(values) + 1), values, marker="o", label=name)
        axes.set_yscale("log")
        axes.set_xticks(range(1, len(layer_names) + 1), layer_names, rotation=45, ha="right")
        axes.set(title=panel, xlabel="layer (input to output)")
        axes.grid(alpha=0.3)
    all_axes[0][0].set_ylabel(ylabel)
    all_axes[0][-1].legend()
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def plot_paths(panels, path, *, title=None):
    """Optimizer paths over contour plots of 2-D functions, one panel per function.

    `panels` maps a panel title to `{"grid": (xs, ys, values), "paths": {name: points}}`
    and optionally `"minima"`, points marked with a cross.
    """
    figure, all_axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels), 4.8), squeeze=False)
    for axes, (panel, content) in zip(all_axes[0], panels.items()):
        xs, ys, values = content["grid"]
        # Quantile levels show the valley floor and the walls alike.
        levels = np.unique(np.quantile(values, np.linspace(0, 1, 25)))
        axes.contour(xs, ys, values, levels=levels, colors="grey", linewidths=0.5)
        for name, points in content["paths"].items():
            axes.plot(points[:, 0], points[:, 1], marker=".", markersize=2, linewidth=1, label=name)
        start = next(iter(content["paths"].values()))[0]
        axes.plot(*start, "k*", markersize=10)
        for minimum in content.get("minima", ()):
            axes.plot(*minimum, "kx", markersize=9, markeredgewidth=2)
        axes.set(title=panel, xlim=(xs[0], xs[-1]), ylim=(ys[0], ys[-1]), xlabel="x", ylabel="y")
    all_axes[0][-1].legend(fontsize=8)
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def plot_images(images, path, *, title=None, cmap=None):
    """Images side by side, each titled; float images are expected in [0, 1]."""
    figure, all_axes = plt.subplots(1, len(images), figsize=(3.6 * len(images), 3.9), squeeze=False)
    for axes, (name, image) in zip(all_axes[0], images.items()):
        image = np.asarray(image)
        axes.imshow(np.clip(image, 0, 1) if image.ndim == 3 else image, cmap=cmap, interpolation="nearest")
        axes.set_title(name, fontsize=9)
        axes.axis("off")
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def plot_feature_maps(rows, path, *, columns=8, title=None):
    """One row of channels per layer: `rows` maps a layer name to an (H, W, C) activation."""
    figure, all_axes = plt.subplots(len(rows), columns, figsize=(1.3 * columns, 1.45 * len(rows)), squeeze=False)
    for axes_row, (name, maps) in zip(all_axes, rows.items()):
        for channel, axes in enumerate(axes_row):
            axes.axis("off")
            if channel < maps.shape[-1]:
                axes.imshow(maps[..., channel], cmap="viridis", interpolation="nearest")
        axes_row[0].set_title(name, fontsize=8, loc="left")
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def plot_tradeoffs(points, path, *, xlabels, ylabel, title=None):
    """One panel per cost (parameters, FLOPs...), each variant a labelled point with error bars.

    `points` maps a variant to `{"costs": {xlabel: value}, "mean": y, "std": spread}`;
    the cost axes are log, since architectures differ by orders of magnitude.
    """
    figure, all_axes = plt.subplots(1, len(xlabels), figsize=(5.4 * len(xlabels), 4.2), squeeze=False)
    for axes, xlabel in zip(all_axes[0], xlabels):
        for name, point in points.items():
            x = point["costs"][xlabel]
            axes.errorbar(x, point["mean"], yerr=point["std"], marker="o", capsize=3, label=name)
            axes.annotate(name, (x, point["mean"]), fontsize=7, xytext=(4, 4), textcoords="offset points")
        axes.set_xscale("log")
        axes.set(xlabel=xlabel, ylabel=ylabel)
        axes.grid(alpha=0.3)
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def plot_decisions(parts, path, *, title=None):
    """What a verdict rests on: per part a panel (each on its own scale and unit) with the
    per-seed effects (differences or ratios, in the claim's direction) as dots, the interval of
    the effect the part is decided on, and the threshold it must clear (dashed). Green: holds;
    red: does not; grey: inconclusive. A part with too few seeds for an interval says so.

    `parts` maps a part's name to its `cookbook.statistics.Verdict`.
    """
    colors = {"holds": "tab:green", "does not hold": "tab:red"}
    figure, all_axes = plt.subplots(len(parts), 1, figsize=(7.2, 0.6 + 1.05 * len(parts)), squeeze=False)
    for axes, (name, verdict) in zip(all_axes[:, 0], parts.items()):
        color = colors.get(str(verdict), "tab:gray")
        effects = [e for e in getattr(verdict, "effects", ()) if e is not None and np.isfinite(e)]
        if effects:
            jitter = np.linspace(-0.15, 0.15, len(effects)) if len(effects) > 1 else np.zeros(1)
            axes.scatter(effects, jitter, s=12, color=color, alpha=0.5, zorder=2)
        interval = getattr(verdict, "interval", None)
        if interval is not None:
            low, high = (_clip(value, effects, verdict.threshold) for value in interval)
            axes.plot([low, high], [0, 0], color=color, linewidth=3, solid_capstyle="butt", zorder=3)
            if np.isfinite(verdict.estimate):
                axes.plot(verdict.estimate, 0, marker="|", color="black", markersize=14, zorder=4)
        elif not effects:
            axes.text(0.5, 0, getattr(verdict, "method", "") or "no interval", transform=axes.get_yaxis_transform(),
                      ha="center", va="center", fontsize=8, color="tab:gray")  # fmt: skip
        if getattr(verdict, "threshold", None) is not None:
            axes.axvline(verdict.threshold, color="black", linestyle="--", linewidth=1)
        if getattr(verdict, "kind", "") == "times lower":
            axes.set_xscale("log")
        unit = getattr(verdict, "unit", "")
        axes.set_title(f"{name}: {verdict}" + (f" ({unit})" if unit else ""), fontsize=9, loc="left")
        axes.set_yticks([])
        axes.set_ylim(-0.5, 0.5)
        axes.grid(axis="x", alpha=0.3)
    all_axes[-1, 0].set_xlabel(
        "per-seed effect in the claim's direction; bar: 90% interval; dashed: to clear", fontsize=8
    )
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return _save(figure, path)


def _clip(value, effects, threshold):
    """An unbounded end of an interval, drawn to a little past the data."""
    if np.isfinite(value):
        return value
    seen = [*effects, threshold]
    span = (max(seen) - min(seen)) or 1.0
    return max(seen) + span if value > 0 else min(seen) - span


def plot_regime(regime, path):
    """Where a claim holds: per part a panel, the effect's estimate and its confidence interval
    at each point of the regime axis, the line the interval must clear, and the anchor
    paper's point shaded. Green: holds there; red: does not; grey: inconclusive."""
    colors = {"holds": "tab:green", "does not hold": "tab:red"}
    points = list(regime.points)
    parts = list(dict.fromkeys(part for by_part in regime.points.values() for part in by_part))
    figure, all_axes = plt.subplots(len(parts), 1, figsize=(6.8, 1.2 + 2.2 * len(parts)), squeeze=False)
    for axes, part in zip(all_axes[:, 0], parts):
        verdicts = [regime.points[point].get(part) for point in points]
        for x, verdict in enumerate(verdicts):
            interval = getattr(verdict, "interval", None)
            if interval is None:
                continue
            color = colors.get(str(verdict), "tab:gray")
            low, high = interval
            axes.errorbar(
                x,
                verdict.estimate,
                yerr=[[verdict.estimate - low], [high - verdict.estimate]],
                fmt="o",
                color=color,
                capsize=5,
            )
        threshold = next((v.threshold for v in verdicts if hasattr(v, "threshold")), None)
        if threshold is not None:
            axes.axhline(threshold, color="black", linestyle="--", linewidth=1, label="must clear")
        if regime.anchor is not None:
            anchor = points.index(regime.anchor)
            axes.axvspan(anchor - 0.4, anchor + 0.4, color="tab:orange", alpha=0.15, label="anchor's regime")
        axes.set_xticks(range(len(points)), [str(point) for point in points])
        axes.set_xlim(-0.6, len(points) - 0.4)
        kind = next((v.kind for v in verdicts if hasattr(v, "kind")), "")
        axes.set_ylabel("ratio" if kind == "times lower" else "difference")
        axes.set_title(part, fontsize=10)
        axes.grid(axis="y", alpha=0.3)
    all_axes[-1, 0].set_xlabel(regime.axis)
    all_axes[0, 0].legend(loc="best", fontsize=8)
    figure.suptitle(f"Where the claim holds (90% intervals){': ' + regime.paper if regime.paper else ''}", fontsize=10)
    return _save(figure, path)


def plot_isolation(searches, path):
    """The nuisance search behind a comparison (an isolation plot, in the Tuning Playbook's
    words): the validation objective against the nuisance value, a curve per variant and rung
    (thin: the short first rung every trial ran; thick: the longest), the chosen point starred.

    `searches`: `{"VARIANT[ @ CONDITION]": search}` as `cookbook.harness.tuning` records them;
    one panel per condition.
    """
    panels = {}
    for key, search in searches.items():
        if not search["trials"]:  # a one-point space: nothing was searched
            continue
        variant, _, condition = key.partition(" @ ")
        panels.setdefault(condition, {})[variant] = search
    figure, all_axes = plt.subplots(len(panels), 1, figsize=(6.8, 0.8 + 2.6 * len(panels)), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for axes, (condition, by_variant) in zip(all_axes[:, 0], panels.items()):
        labels = []
        for index, (variant, search) in enumerate(by_variant.items()):
            color = colors[index % len(colors)]
            for trial in search["trials"]:
                label = _point_label(trial["nuisance"])
                if label not in labels:
                    labels.append(label)
            rungs = sorted({trial["rung"] for trial in search["trials"]})
            for rung in rungs:
                trials = [t for t in search["trials"] if t["rung"] == rung]
                xs = [labels.index(_point_label(t["nuisance"])) for t in trials]
                ys = [_finite_or_nan(t["objective"]) for t in trials]
                last = rung == rungs[-1]
                axes.plot(xs, ys, marker="o", color=color, linewidth=2 if last else 0.8,
                          alpha=1 if last else 0.5, markersize=5 if last else 3,
                          label=f"{variant} ({trials[0]['epochs']} epochs)")  # fmt: skip
            chosen = [t for t in search["trials"] if t["rung"] == rungs[-1] and t["nuisance"] == search["chosen"]]
            if chosen:
                x = labels.index(_point_label(search["chosen"]))
                axes.plot(x, _finite_or_nan(chosen[0]["objective"]), marker="*", markersize=14, color=color,
                          markeredgecolor="black", linestyle="none")  # fmt: skip
        axes.set_xticks(range(len(labels)), labels, fontsize=8)
        axes.set_ylabel(next(iter(by_variant.values()))["objective"], fontsize=9)
        axes.set_title(f"at {condition}" if condition else "each variant at its own best setting", fontsize=10)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7, loc="best")
    names = ", ".join(next(iter(searches.values())).get("space", {})) or "nuisance setting"
    all_axes[-1, 0].set_xlabel(f"{names} (star: chosen for the decisive seeds)")
    figure.suptitle("Nuisance tuning on the validation split", fontsize=10)
    return _save(figure, path)


def _point_label(nuisance):
    return ", ".join(f"{value:g}" if isinstance(value, float) else str(value) for value in nuisance.values())


def _finite_or_nan(value):
    return float(value) if isinstance(value, (int, float)) and np.isfinite(value) else np.nan
