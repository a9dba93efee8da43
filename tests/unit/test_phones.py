"""Vietnamese phone numbers in their national form, whatever way they were written."""

from __future__ import annotations

import pytest

from confhub.core.errors import InvalidInputError
from confhub.core.phones import Phone, parse_phone
from confhub.points.contacts import check_contacts

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("written", "national"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("0912-345-678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("84912345678", "0912345678"),
        ("(+84) 912.345.678", "0912345678"),
        ("+84 0912 345 678", "0912345678"),
        ("0237 385 2468", "0237 385 2468".replace(" ", "")),
        (" 0389999999 ", "0389999999"),
    ],
)
def test_written_numbers_become_the_national_form(written: str, national: str) -> None:
    assert parse_phone(written) == Phone(national, restored=False)


def test_a_number_that_lost_its_leading_zero_is_restored_and_marked() -> None:
    # What a spreadsheet keeps of 0912345678 stored as a number.
    assert parse_phone("912345678") == Phone("0912345678", restored=True)
    assert parse_phone("389999999") == Phone("0389999999", restored=True)


@pytest.mark.parametrize(
    "written",
    [
        "",
        "abc",
        "091234567",  # nine digits with the 0: one is missing
        "09123456789",  # eleven
        "0112345678",  # no Vietnamese number starts 01 since 2018
        "112345678",  # nine digits that no national number ends with
        "+1 912 345 678",  # another country
        "+84 12 345 678",
        "0912345678 ext 2",
        "0237 385 246",  # a landline one digit short
        "0912/345/678",
        "=0912345678",
    ],
)
def test_anything_else_is_not_a_number(written: str) -> None:
    assert parse_phone(written) is None


def test_contacts_are_checked_field_by_field() -> None:
    checked = check_contacts(
        7,
        chair_name="  Phạm  Thị Nhàn ",
        chair_position="Chủ tịch UBND xã",
        phones=["+84 912 345 678", "0912.345.678", "912000111", ""],
        email=" nhan@camtu.thanhhoa.gov.vn ",
        technician_phone="0237 385 2468",
    )
    contacts = checked.contacts
    assert contacts.chair_name == "Phạm Thị Nhàn"
    assert contacts.phones == ("0912345678", "0912000111")  # the repeat dropped
    assert contacts.email == "nhan@camtu.thanhhoa.gov.vn"
    assert contacts.technician_phone == "02373852468"
    assert checked.restored_phones == ("0912000111",)


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"phones": ["0912345678", "12345"]}, "phones[1]", "not a Vietnamese phone number"),
        ({"technician_phone": "hotline"}, "technician_phone", "not a Vietnamese phone number"),
        ({"email": "nhan@camtu"}, "email", "not an e-mail address"),
        ({"email": "nhan camtu@x.vn"}, "email", "not an e-mail address"),
        ({"chair_name": "a\x00b"}, "chair_name", "one line"),
        ({"phones": ["0912345678"] * 6}, "phones", "At most 5"),
    ],
)
def test_bad_values_name_their_field(values: dict, field: str, words: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_contacts(1, **values)
    assert caught.value.field == field
    assert words in caught.value.detail


def test_a_landline_that_lost_its_leading_zero_is_restored_too() -> None:
    assert parse_phone("2373852468") == Phone("02373852468", restored=True)
