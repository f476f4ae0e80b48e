"""The report's chart: time to first response per day, as a PNG a person would rather look at
than read. matplotlib (the standard plotting library) draws it without a display."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from bridge.report import Report


def write_png(report: Report, path: Path, *, title: str) -> int:
    """One bar (median) and one point (p90) per day, in minutes; returns the days drawn."""
    days = list(report.per_day)
    medians = [(g.median_s or 0) / 60 for g in report.per_day.values()]
    p90s = [(g.p90_s or 0) / 60 for g in report.per_day.values()]
    counts = [g.threads for g in report.per_day.values()]
    figure, axes = plt.subplots(figsize=(max(6, len(days) * 0.9), 4), dpi=100)
    try:
        labels = [day.strftime("%a %d %b") for day in days]
        bars = axes.bar(labels, medians, color="#3b7dd8", label="median")
        axes.scatter(labels, p90s, color="#d8573b", zorder=3, label="p90")
        for bar, count in zip(bars, counts, strict=True):
            axes.annotate(
                f"{count} thread{'s' if count != 1 else ''}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )
        axes.set_ylabel("minutes to first response")
        axes.set_title(title)
        axes.legend(loc="upper left")
        axes.tick_params(axis="x", labelrotation=30)
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
    return len(days)
