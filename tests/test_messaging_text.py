"""SMS text: diacritics removed, GSM-7 or UCS-2, parts counted at the right boundaries."""

from __future__ import annotations

import pytest

from hub.errors import ValidationError
from hub.messaging.sms_text import prepare_sms
from hub.messaging.sms_text import strip_diacritics
from hub.messaging.templates import check_template
from hub.messaging.templates import format_date
from hub.messaging.templates import format_number
from hub.messaging.templates import render

# The PostgreSQL lane of scripts/test skips these: message text, no database.
pytestmark = pytest.mark.db_agnostic


def test_vietnamese_diacritics_are_removed_letter_by_letter():
    text = "Cảm ơn Nguyễn Thị Lan đã mua hàng tại Đà Lạt — 150.000₫ “quà”"
    assert strip_diacritics(text) == 'Cam on Nguyen Thi Lan da mua hang tai Da Lat - 150.000d "qua"'


@pytest.mark.parametrize(("length", "parts"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3)])
def test_gsm7_messages_split_at_160_then_153(length, parts):
    sms = prepare_sms("a" * length, unicode=False)
    assert (sms.encoding, sms.characters, sms.segments) == ("GSM-7", length, parts)


@pytest.mark.parametrize(("length", "parts"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_messages_split_at_70_then_67(length, parts):
    sms = prepare_sms("ả" * length, unicode=True)
    assert (sms.encoding, sms.characters, sms.segments) == ("UCS-2", length, parts)


def test_extension_characters_count_twice_in_gsm7():
    sms = prepare_sms("{" * 80, unicode=False)
    assert (sms.characters, sms.segments) == (160, 1)
    assert prepare_sms("{" * 81, unicode=False).segments == 2


def test_without_unicode_what_gsm7_cannot_carry_becomes_a_question_mark():
    sms = prepare_sms("Chúc mừng 🎉", unicode=False)
    assert (sms.text, sms.encoding) == ("Chuc mung ?", "GSM-7")


def test_with_unicode_diacritics_stay_and_ascii_text_stays_gsm7():
    assert prepare_sms("Cảm ơn", unicode=True).text == "Cảm ơn"
    assert prepare_sms("Thank you", unicode=True).encoding == "GSM-7"


def test_templates_fill_plain_names_only():
    assert render("{shop}: {name}, {missing}!", {"shop": "Hoa Mai", "name": "Lan"}) == (
        "Hoa Mai: Lan, !"
    )
    check_template("{name} {{literal}}", {"name"}, field="t")
    for bad in ("{name.__class__}", "{name!r}", "{name:>10}", "{0}", "{name", "{nope}"):
        with pytest.raises(ValidationError):
            check_template(bad, {"name"}, field="t")


def test_numbers_and_dates_read_as_each_locale_writes_them():
    from datetime import date
    from decimal import Decimal

    assert format_number(1250000, "vi") == "1.250.000"
    assert format_number(1250000, "en") == "1,250,000"
    assert format_number(Decimal("450000.0000"), "vi") == "450.000"
    assert format_date(date(2026, 11, 23), "vi") == "23/11/2026"
    assert format_date(date(2026, 11, 23), "en") == "Nov 23, 2026"
