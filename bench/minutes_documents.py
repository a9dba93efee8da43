"""Benchmark of the minutes as official documents (issue #17): what one DOCX and one PDF cost to
render, for the demo's meeting and for the largest the bounds let through.

Renders in this process, as the documents' thread does (news/documents.py): the document is
composed from a meeting's facts and the minutes' stored HTML (rendered from Markdown by
news/markdown.py, within its bounds), then written by `DocxExporter` and `PdfExporter`. Cases:
the demo's 10 Sept meeting (166 points: 156 present, 6 absent, 4 not answered; 28,000
characters of real-looking minutes), and the largest: 100,000 characters of minutes (the limit)
and 400 invited points (more than any province has units) whose reasons are 500 characters.
Reports wall-clock and CPU seconds (best of `--repeat`), the file's size and its pages.

It prints the command that reproduces it and writes its section of docs/performance.md.
Run: `.venv/bin/python bench/minutes_documents.py` (`--help` for the options).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from _report import replace_section

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration.news.long_minutes import long_minutes  # noqa: E402

from confhub.news.document_docx import DocxExporter  # noqa: E402
from confhub.news.document_pdf import PdfExporter  # noqa: E402
from confhub.news.markdown import render_bounded  # noqa: E402
from confhub.news.official import OfficialMinutes, compose  # noqa: E402
from confhub.news.wording import MeetingFacts  # noqa: E402

TITLE = "## Minutes as official documents (bench/minutes_documents.py)"


def _facts(present: int, absent: int, pending: int, reason: str) -> MeetingFacts:
    points = []
    for index in range(present + absent + pending):
        status = "present" if index < present else "absent" if index < present + absent else ""
        points.append(
            {
                "point_id": index,
                "unit_code": 10_000 + index,
                "unit_name": f"Xã Thiệu Trung Nguyên Hòa {index}",
                "name": "Hội trường",
                "chair": "Nguyễn Thị Phương Thảo",
                "chair_title": "Bí thư Đảng ủy, Chủ tịch Hội đồng nhân dân xã",
                "status": status or "pending",
                "delegates_present": 35 if status == "present" else None,
                "reason": reason if status == "absent" else None,
            }
        )
    return MeetingFacts(
        title="Hội nghị trực tuyến đánh giá hoạt động chính quyền địa phương 2 cấp",
        convening_body="Thường trực Tỉnh ủy Thanh Hóa",
        presiding_official="Đồng chí Nguyễn Doãn Anh, Bí thư Tỉnh ủy",
        starts_at=datetime(2025, 9, 10, 7, tzinfo=UTC),
        ends_at=datetime(2025, 9, 10, 10, tzinfo=UTC),
        timezone="Asia/Ho_Chi_Minh",
        province_name="Thanh Hóa",
        host_point_name="Điểm cầu chính Thanh Hóa",
        points=points,
        totals={"delegates": 35 * present, "invited": len(points), "present": present},
    )


def _largest_minutes() -> str:
    """The longest text the bounds accept: real-looking minutes to the 100,000-character limit
    (the work allowance refuses more formatting than 28,000 characters of them have), then
    plain paragraphs."""
    text = long_minutes(28_000)
    paragraph = "Đồng chí Bí thư Tỉnh ủy kết luận, yêu cầu các xã, phường tiếp tục thực hiện. "
    while len(text) + len(paragraph) * 12 + 2 < 100_000:
        text += "\n\n" + paragraph * 12
    return text


def cases() -> dict[str, OfficialMinutes]:
    """The documents measured."""
    demo_html = str(render_bounded(long_minutes(28_000), "markdown"))
    largest_html = str(render_bounded(_largest_minutes(), "markdown"))
    demo = compose(_facts(156, 6, 4, "Mất điện do bão số 5"), demo_html, [], 1)
    largest = compose(_facts(380, 15, 5, "Mất điện do bão. " * 29), largest_html, [], 2)
    return {
        "the demo's meeting (166 points, 28,000 characters)": demo,
        "the largest (400 points, 100,000 characters)": largest,
    }


def _pages(fmt: str, body: bytes) -> str:
    if fmt == "pdf":  # poppler's pdfinfo (poppler-utils)
        info = subprocess.run(
            ["pdfinfo", "-"],  # noqa: S607
            input=body,
            capture_output=True,
            check=True,
        ).stdout.decode()
        return next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:"))
    import docx

    return f"{len(docx.Document(io.BytesIO(body)).tables)} tables"


def main() -> None:
    """Measure, print, and write the report's section."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="renders per measurement")
    parser.add_argument("--no-report", action="store_true", help="do not write the report")
    args = parser.parse_args()
    command = shlex.join([".venv/bin/python", "bench/minutes_documents.py", *sys.argv[1:]])
    print(f"$ {command}")
    exporters = {"docx": DocxExporter(), "pdf": PdfExporter()}
    rows = []
    for name, doc in cases().items():
        for fmt, exporter in exporters.items():
            walls, cpus, body = [], [], b""
            for _ in range(args.repeat):
                wall, cpu = time.perf_counter(), time.process_time()
                body = exporter.render(doc)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            row = (
                f"| {name} | {fmt.upper()} | {min(walls):.2f} | {min(cpus):.2f} | "
                f"{len(body) / 1024:,.0f} | {_pages(fmt, body)} |"
            )
            print(row, flush=True)
            rows.append(row)
    if args.no_report:
        return
    cpus_count = len(os.sched_getaffinity(0))
    load = os.getloadavg()[0]
    text = "\n".join(
        [
            TITLE,
            "",
            f"`{command}` — {datetime.now(UTC):%Y-%m-%d}, Python {platform.python_version()}, "
            f"{cpus_count} CPUs ({platform.machine()}), in one process (as the documents' "
            f"thread renders them); load average {load:.1f} at the end (the machine was shared: "
            "wall-clock numbers are higher than an idle machine's).",
            "",
            "One render of the biên bản, best of several, in seconds; the file's size in KiB and, "
            "for the PDF, its pages (for the DOCX, its tables).",
            "",
            "| document | format | wall | CPU | KiB | pages |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
            *rows,
            "",
            "- A process renders one document at a time in a thread of its own and lets 4 more "
            "wait (news/documents.py); a sixth request at once is a 503 with `Retry-After: 10`. "
            "The event loop goes on meanwhile, but the render holds the interpreter for most of "
            "its time, so other requests of that process slow down while it runs.",
            "- The first PDF of a process also loads Pango and the fonts (not counted above: the "
            "best of several).",
            "",
        ]
    )
    replace_section(TITLE, text)


if __name__ == "__main__":
    main()
