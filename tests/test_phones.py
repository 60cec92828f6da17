import pytest

from hub.errors import ValidationError
from hub.phones import normalize_email
from hub.phones import normalize_phone

# The PostgreSQL lane of scripts/test skips these: phone numbers, no database.
pytestmark = pytest.mark.db_agnostic


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912345678", "+84912345678"),
        ("0912 345 678", "+84912345678"),
        ("+84 912-345-678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0084912345678", "+84912345678"),
        # The 2018 conversion of 11-digit mobile numbers.
        ("0161 2345678", "+84312345678"),
        ("01662345678", "+84362345678"),
        ("01202345678", "+84702345678"),
        ("01232345678", "+84832345678"),
        ("01862345678", "+84562345678"),
        ("01992345678", "+84592345678"),
        ("+841662345678", "+84362345678"),
        ("+1 415 555 2671", "+14155552671"),
    ],
)
def test_phone_numbers_are_stored_in_e164(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "09123", "abc", "+84 12", "0912345678901234"])
def test_impossible_phone_numbers_are_refused_with_a_field_error(raw):
    with pytest.raises(ValidationError) as caught:
        normalize_phone(raw)
    assert caught.value.code == "invalid_phone"
    assert "phone" in caught.value.details


def test_empty_phone_is_none():
    assert normalize_phone("  ") is None
    assert normalize_phone(None) is None


def test_emails_are_trimmed_and_lower_cased():
    assert normalize_email("  Lan.Nguyen@Example.VN ") == "lan.nguyen@example.vn"


@pytest.mark.parametrize("raw", ["lan", "lan@", "@example.vn", "lan@example", "l an@example.vn"])
def test_malformed_emails_are_refused(raw):
    with pytest.raises(ValidationError):
        normalize_email(raw)


def test_vietnamese_numbers_read_without_parsing_agree_with_phonenumbers():
    import random

    import phonenumbers

    from hub.phones import _vietnamese_e164

    def parsed(text: str, region: str) -> str | None:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(number):
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    draw = random.Random(19)
    answered = 0
    for _ in range(20_000):
        digits = "".join(draw.choice("0123456789") for _ in range(draw.choice((8, 9, 10, 11))))
        for text, region in (("0" + digits, "VN"), ("+84" + digits, "VN"), ("+84" + digits, "US")):
            fast = _vietnamese_e164(text, region)
            if fast is not None:
                answered += 1
                assert fast == parsed(text, region), text
    assert answered > 1000  # the sweep reached the numbers the shortcut answers
