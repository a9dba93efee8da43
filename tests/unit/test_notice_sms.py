"""The SMS length the outbox page previews: GSM-7 (160, then 153 a part) without diacritics,
UCS-2 (70, then 67 a part) with them."""

from __future__ import annotations

import pytest

from confhub.notices.sms import sms_length, without_diacritics

pytestmark = pytest.mark.unit


def test_vietnamese_with_diacritics_is_ucs2_and_without_is_gsm7() -> None:
    text = "Giấy mời: Hội nghị triển khai nhiệm vụ quý IV - 14:00 10/09/2025"
    plain = without_diacritics(text)
    assert plain == "Giay moi: Hoi nghi trien khai nhiem vu quy IV - 14:00 10/09/2025"
    assert sms_length(text).encoding == "UCS-2"
    assert sms_length(plain).encoding == "GSM-7"
    assert sms_length(text).segments == 1 and sms_length(plain).segments == 1
    assert without_diacritics("Đặc khu Côn Đảo") == "Dac khu Con Dao"


@pytest.mark.parametrize(
    ("text", "segments"),
    [("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3), ("ă" * 70, 1), ("ă" * 71, 2)],
)
def test_segments_split_at_the_encodings_limits(text: str, segments: int) -> None:
    assert sms_length(text).segments == segments


def test_gsm7_extension_characters_count_twice() -> None:
    assert sms_length("€" * 80).units == 160
    assert sms_length("€" * 81).segments == 2
