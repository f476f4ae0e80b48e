"""The report's chart is labelled in its reader's language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import matplotlib.pyplot as plt

from bridge.desks.report import Group, build
from bridge.desks.report_chart import chart
from bridge.text.i18n import speaking


def _labels(locale: str) -> tuple[str, list[str], list[str], list[str]]:
    """The chart's y label, day labels, legend and bar annotations in ``locale``."""
    report = build(
        [],
        since=datetime(2026, 11, 30, tzinfo=UTC),
        until=datetime(2026, 12, 2, tzinfo=UTC),
        zone=ZoneInfo("Asia/Jakarta"),
    )
    report.per_day[date(2026, 12, 1)] = Group(threads=2, responses=[120.0, 600.0])
    with speaking(locale):
        figure = chart(report, title="-")
    try:
        axes = figure.axes[0]
        days = [label.get_text() for label in axes.get_xticklabels()]
        legend = sorted(text.get_text() for text in axes.get_legend().get_texts())
        notes = [text.get_text() for text in axes.texts]
        return axes.get_ylabel(), days, legend, notes
    finally:
        plt.close(figure)


def test_the_chart_speaks_bahasa_indonesia() -> None:
    assert _labels("id") == (
        "menit hingga balasan pertama",
        ["Sel 01 Des"],
        ["median", "p90"],
        ["2 utas"],
    )


def test_the_chart_speaks_english() -> None:
    assert _labels("en") == (
        "minutes to first response",
        ["Tue 01 Dec"],
        ["median", "p90"],
        ["2 threads"],
    )
