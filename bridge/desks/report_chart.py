"""The report's chart: time to first response per day, as a PNG a person would rather look at
than read. matplotlib (the standard plotting library) draws it without a display."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from bridge.desks.report import Report
from bridge.text.i18n import _, day, ngettext


def write_png(report: Report, path: Path, *, title: str) -> int:
    """Draw the chart into ``path``; returns the days drawn."""
    figure = chart(report, title=title)
    try:
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
    return len(report.per_day)


def chart(report: Report, *, title: str) -> Figure:
    """One bar (median) and one point (p90) per day, in minutes, labelled in the reader's
    language; the caller closes the figure."""
    groups = report.per_day.values()
    medians = [(g.median_s or 0) / 60 for g in groups]
    p90s = [(g.p90_s or 0) / 60 for g in groups]
    figure, axes = plt.subplots(figsize=(max(6, len(groups) * 0.9), 4), dpi=100)
    labels = [day(when) for when in report.per_day]
    bars = axes.bar(labels, medians, color="#3b7dd8", label=_("median"))
    axes.scatter(labels, p90s, color="#d8573b", zorder=3, label="p90")
    for bar, group in zip(bars, groups, strict=True):
        axes.annotate(
            ngettext("{count} thread", "{count} threads", group.threads),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    axes.set_ylabel(_("minutes to first response"))
    axes.set_title(title)
    axes.legend(loc="upper left")
    axes.tick_params(axis="x", labelrotation=30)
    return figure
