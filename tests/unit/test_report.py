"""The report's figures equal those computed by hand for a fixture of threads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bridge.desks.report import ThreadFacts, build, percentile, render

JAKARTA = ZoneInfo("Asia/Jakarta")
DAY1 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Mon 09:00 in Jakarta
DAY2 = DAY1 + timedelta(days=1)


def thread(
    *,
    at: datetime,
    minutes: float | None,
    by: str | None = None,
    institution: bool | None = None,
    route: str = "complaints",
    account: str = "humas",
    breached: bool = False,
    mentions: int = 1,
) -> ThreadFacts:
    return ThreadFacts(
        account=account,
        route=route,
        created_at=at,
        mentions=mentions,
        first_response=timedelta(minutes=minutes) if minutes is not None else None,
        answered_by=by,
        answered_as_institution=institution,
        breached=breached,
    )


FIXTURE = [
    thread(at=DAY1, minutes=1, by="rina", institution=True, mentions=3),
    thread(at=DAY1, minutes=2, by="rina", institution=False),
    thread(at=DAY1, minutes=10, by="sari", institution=True, route="press"),
    thread(at=DAY2, minutes=None, breached=True),
    thread(at=DAY2, minutes=50, by="", institution=True, breached=True, account="pers"),
]


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 90) is None
    assert percentile([5.0], 90) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 90) == 9.0
    assert percentile([60.0, 120.0, 600.0, 3000.0], 90) == 3000.0


def test_figures_match_the_hand_computed_ones() -> None:
    report = build(FIXTURE, since=DAY1, until=DAY2 + timedelta(hours=1), zone=JAKARTA)
    total = report.total
    assert (total.threads, total.mentions, total.answered, total.breaches) == (5, 7, 4, 2)
    assert total.answered_share == 0.8
    assert total.median_s == (120 + 600) / 2  # of 60, 120, 600, 3000 seconds
    assert total.p90_s == 3000
    assert report.identities == {"institution": 3, "personal": 1}
    assert report.by_person["rina"].answered == 2 and report.by_person["rina"].median_s == 90
    assert report.by_route["press"].threads == 1
    assert report.by_account["pers"].breaches == 1
    assert [d.isoformat() for d in report.per_day] == ["2026-11-30", "2026-12-01"]
    assert report.per_day[DAY2.astimezone(JAKARTA).date()].answered == 1


def test_the_text_names_people_and_answers_made_on_x() -> None:
    report = build(FIXTURE, since=DAY1, until=DAY2, zone=JAKARTA)
    text = render(report, names={"rina": "Rina", "sari": "Sari"}, networks="X", zone=JAKARTA)
    assert "Mentions: 7 in 5 threads" in text
    assert "Answered: 4 of 5 (80%)" in text
    assert "Time to first response: median 6 min, p90 50 min" in text
    assert "SLA breaches: 2" in text
    assert "Replies as: institution 3, personal 1" in text
    assert "  Rina" in text and "directly on X" in text


def test_the_report_reads_in_the_destinations_language_with_aligned_columns() -> None:
    from bridge.text import messages
    from bridge.text.i18n import speaking

    report = build(FIXTURE, since=DAY1, until=DAY2, zone=JAKARTA)
    with speaking("id"):
        text = render(report, names={"rina": "Rina", "sari": "Sari"}, networks="X", zone=JAKARTA)
        heading, columns = messages.report_by_route(), messages.report_columns()
    assert heading != "By route" and heading in text and "By route" not in text
    assert "6 mnt" in text and "80%" in text
    header = next(line for line in text.splitlines() if all(c in line for c in columns))
    rows = text.splitlines()[text.splitlines().index(header) + 1 :]
    # Every number ends under the end of its column's heading.
    threads_end = header.index(columns[0]) + len(columns[0])
    assert rows[0][threads_end - 1].isdigit() and rows[0][threads_end] == " "
