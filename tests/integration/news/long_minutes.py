"""The minutes of a long conference, as a secretariat writes them: who attended (a list), then
section after section of reports with figures (a table each), decisions (a numbered list with
links to the documents) and remarks in bold and italics. The same text every time."""

from __future__ import annotations

import random

_VOCABULARY = (
    "hội nghị tỉnh ủy ủy ban nhân dân xã phường đồng chí bí thư chủ tịch báo cáo kết quả thực "
    "hiện nhiệm vụ phát triển kinh tế xã hội quý năm kế hoạch đầu tư công giải ngân vốn chương "
    "trình mục tiêu quốc gia nông thôn mới giảm nghèo bền vững chuyển đổi số cải cách hành chính"
)
WORDS = tuple(_VOCABULARY.split())
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


def _section(rng: random.Random, number: int, documents: list[int]) -> list[str]:
    def words(count: int) -> str:
        text = " ".join(rng.choice(WORDS) for _ in range(count))
        return text[0].upper() + text[1:]

    lines = [f"### {number}. {words(6)}", ""]
    for _ in range(3):
        lines += [
            f"{words(40)}, đạt **{rng.randint(50, 120)}%** kế hoạch; {words(20)} lúc "
            f"{rng.randint(7, 17)}:30 ngày {rng.randint(1, 28)}/9/2025 (*{words(4)}*).",
            "",
        ]
    lines += ["| Chỉ tiêu | Kế hoạch | Thực hiện | Tỷ lệ |", "| --- | ---: | ---: | ---: |"]
    for _ in range(8):
        planned, done = rng.randint(100, 9999), rng.randint(100, 9999)
        lines.append(f"| {words(4)} | {planned} | {done} | {rng.randint(40, 130)}% |")
    lines.append("")
    for item in range(1, 6):
        documents.append(len(documents) + 1)
        link = f"[văn bản](https://thanhhoa.gov.vn/van-ban/{documents[-1]})"
        lines.append(f"{item}. {words(15)} – xem {link}.")
    return [*lines, ""]


def long_minutes(length: int, seed: int = 2025) -> str:
    """Minutes of about `length` characters (never more)."""
    rng = random.Random(seed)
    lines = ["## I. Thành phần tham dự", ""]
    for _ in range(40):
        name = " ".join(rng.choice(WORDS) for _ in range(3)).title()
        lines.append(f"- Đồng chí {name} – {' '.join(rng.choice(WORDS) for _ in range(5))}.")
    lines += ["", "## II. Nội dung hội nghị", ""]
    documents: list[int] = []
    text = "\n".join(lines)
    number = 1
    while True:
        if number % 8 == 0:
            lines += [f"## {ROMAN[(2 + number // 8) % len(ROMAN)]}. Phần tiếp theo", ""]
        lines += _section(rng, number, documents)
        longer = "\n".join(lines)
        if len(longer) > length:
            return text
        text, number = longer, number + 1
