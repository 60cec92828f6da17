"""Phone numbers to E.164, with Vietnam's 2018 mobile prefix change applied first."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata

from hub.errors import ValidationError

# In 2018 Vietnam moved 11-digit mobile numbers to 10 digits: 016x -> 03x
# (Viettel), 012x -> 07x/08x (MobiFone, VinaPhone), 0186/0188 -> 056/058
# (Vietnamobile), 0199 -> 059 (Gmobile). Old numbers still sit in customer
# lists, so they are converted before parsing.
_OLD_PREFIXES = {
    "0120": "070",
    "0121": "079",
    "0122": "077",
    "0126": "076",
    "0128": "078",
    "0123": "083",
    "0124": "084",
    "0125": "085",
    "0127": "081",
    "0129": "082",
    "0186": "056",
    "0188": "058",
    "0199": "059",
}
_SEPARATORS = re.compile(r"[\s.\-()/]")


def _convert_old_vietnam_prefix(digits: str) -> str:
    """Map an 11-digit pre-2018 Vietnamese mobile number to its 10-digit form."""
    national = digits
    if digits.startswith("+84"):
        national = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 12:
        national = "0" + digits[2:]
    if len(national) != 11 or not national.startswith("01"):
        return digits
    head = national[:4]
    if head in _OLD_PREFIXES:
        return _OLD_PREFIXES[head] + national[4:]
    if national.startswith("016"):  # 0161..0169 -> 031..039
        return "03" + national[3:]
    return digits


def normalize_phone(raw: str | None, region: str = "VN") -> str | None:
    """Return ``raw`` as E.164 (``+84912345678``), or None for an empty value.

    :raise ValidationError: the number cannot be a real phone number.
    """
    if raw is None or not str(raw).strip():
        return None
    text = _SEPARATORS.sub("", str(raw).strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    if region == "VN" or text.startswith("+84") or text.startswith("84"):
        text = _convert_old_vietnam_prefix(text)
    e164 = _vietnamese_e164(text, region) or _e164(text, region)
    if e164 is None:
        raise ValidationError(
            f"{raw!r} is not a valid phone number",
            details={"phone": [f"not a valid phone number for region {region}"]},
            code="invalid_phone",
        )
    return e164


def _descriptions(region: str) -> list[tuple[frozenset[int], re.Pattern[str]]]:
    """The region's general number description, then its mobile and fixed-line ones, as
    (possible lengths, national number pattern) pairs from phonenumbers' metadata."""
    metadata = PhoneMetadata.metadata_for_region(region)
    return [
        (frozenset(desc.possible_length), re.compile(desc.national_number_pattern))
        for desc in (metadata.general_desc, metadata.mobile, metadata.fixed_line)
    ]


_VIETNAM = _descriptions("VN")
_VIETNAM_WRITTEN = re.compile(r"(?:0|\+84)([1-9]\d{8,9})")


def _fits(national: str, description: tuple[frozenset[int], re.Pattern[str]]) -> bool:
    lengths, pattern = description
    return len(national) in lengths and pattern.fullmatch(national) is not None


def _vietnamese_e164(text: str, region: str) -> str | None:
    """A Vietnamese number written ``0…`` (region VN) or ``+84…``, in E.164, when its digits
    fit the general description and the mobile or fixed-line one (which is what
    phonenumbers' validity check asks of them); None sends any other text to phonenumbers.

    Most numbers a merchant has are written so, and this answers them without parsing.
    """
    written = _VIETNAM_WRITTEN.fullmatch(text)
    if written is None or (region != "VN" and text[0] != "+"):
        return None
    national = written.group(1)
    general, mobile, fixed_line = _VIETNAM
    if _fits(national, general) and (_fits(national, mobile) or _fits(national, fixed_line)):
        return "+84" + national
    return None


def phone_or_none(raw: str | None, region: str = "VN") -> str | None:
    """``raw`` in E.164, or None when it is empty or not a real phone number.

    The rule member matching uses: a store's bad phone does not stop its order
    from being recorded, it just matches no one by phone.
    """
    try:
        return normalize_phone(raw, region)
    except ValidationError:
        return None


@lru_cache(maxsize=65536)
def _e164(text: str, region: str) -> str | None:
    """The number in E.164, or None when it is not a valid one; remembered, since every
    order names its customer's phone and parsing one costs more than recording the order."""
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str | None) -> str | None:
    """Return the email trimmed and lower-cased, or None for an empty value.

    :raise ValidationError: it has no ``@`` with text on both sides.
    """
    if raw is None or not str(raw).strip():
        return None
    email = str(raw).strip().lower()
    local, _, domain = email.rpartition("@")
    if not local or "." not in domain or " " in email:
        raise ValidationError(
            f"{raw!r} is not a valid email address",
            details={"email": ["not a valid email address"]},
            code="invalid_email",
        )
    return email
