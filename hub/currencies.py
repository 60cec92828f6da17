"""ISO 4217 currency codes: which a merchant or a setting may name."""

from __future__ import annotations

from hub.errors import ValidationError

#: The active ISO 4217 codes of national and common currencies.
_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER
    ZAR ZMW ZWG
"""
ISO_4217 = frozenset(_CODES.split())


def check_currency(code: str) -> str:
    """Return ``code`` upper-cased; raise ``ValidationError`` unless it is an ISO 4217 code."""
    normal = (code or "").strip().upper()
    if normal not in ISO_4217:
        raise ValidationError(
            f"unknown currency code {code!r}: use a three-letter ISO 4217 code such as VND or USD",
            details={"currency": ["use a three-letter ISO 4217 code such as VND or USD"]},
        )
    return normal
