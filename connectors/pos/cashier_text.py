"""The cashier page's words in Vietnamese and English, and how it writes numbers and money."""

from __future__ import annotations

from decimal import ROUND_HALF_UP
from decimal import Decimal

LANGUAGES = ("vi", "en")

TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Quầy thu ngân",
        "sign_in": "Đăng nhập quầy",
        "sign_in_help": "Nhập khoá POS mà chủ cửa hàng đã cấp cho quầy này.",
        "key": "Khoá POS",
        "sign_in_button": "Đăng nhập",
        "bad_key": "Khoá không đúng hoặc đã bị thu hồi.",
        "sign_out": "Đăng xuất",
        "lookup_label": "Số điện thoại, mã thành viên hoặc quét mã QR",
        "lookup_button": "Tìm",
        "lookup_help": "Quét thẻ hoặc gõ số rồi nhấn Enter.",
        "not_found": "Không tìm thấy thành viên “{q}”.",
        "enrol_offer": "Đăng ký thành viên mới",
        "points": "Điểm",
        "points_unit": "điểm",
        "available": "Dùng được",
        "pending": "Đang chờ",
        "tier": "Hạng",
        "no_tier": "Chưa có hạng",
        "code": "Mã thành viên",
        "phone": "Điện thoại",
        "vouchers": "Voucher",
        "no_vouchers": "Chưa có voucher.",
        "expires": "hết hạn {date}",
        "earn": "Tích điểm cho hoá đơn",
        "amount": "Số tiền thanh toán",
        "receipt": "Số hoá đơn (không bắt buộc)",
        "earn_button": "Tích điểm",
        "earned": "Đã ghi hoá đơn {receipt}: +{points} điểm.",
        "replayed": "Hoá đơn {receipt} đã được ghi trước đó; không cộng thêm điểm.",
        "rewards": "Đổi quà",
        "redeem_button": "Đổi {name}",
        "costs": "{points} điểm",
        "redeemed": "Đã đổi “{name}”: voucher {code}.",
        "no_rewards": "Chưa có quà để đổi.",
        "enrol": "Đăng ký thành viên",
        "name": "Họ tên",
        "consent_sms": "Đồng ý nhận tin SMS",
        "consent_zalo": "Đồng ý nhận tin Zalo",
        "enrol_button": "Đăng ký",
        "enrolled": "Đã đăng ký thành viên {code}.",
        "existing": "Số này đã là thành viên {code}.",
        "new_lookup": "Khách khác",
        "error": "Không thực hiện được: {message}",
        "language": "English",
        "expired_session": "Phiên làm việc đã hết hạn; vui lòng đăng nhập lại.",
    },
    "en": {
        "title": "Cashier",
        "sign_in": "Sign in to this counter",
        "sign_in_help": "Enter the POS key the shop owner made for this counter.",
        "key": "POS key",
        "sign_in_button": "Sign in",
        "bad_key": "The key is wrong or has been revoked.",
        "sign_out": "Sign out",
        "lookup_label": "Phone, member code or scan the QR code",
        "lookup_button": "Find",
        "lookup_help": "Scan the card, or type and press Enter.",
        "not_found": "No member “{q}”.",
        "enrol_offer": "Enrol a new member",
        "points": "Points",
        "points_unit": "points",
        "available": "Available",
        "pending": "Pending",
        "tier": "Tier",
        "no_tier": "No tier yet",
        "code": "Member code",
        "phone": "Phone",
        "vouchers": "Vouchers",
        "no_vouchers": "No vouchers.",
        "expires": "expires {date}",
        "earn": "Earn points on a sale",
        "amount": "Amount paid",
        "receipt": "Receipt number (optional)",
        "earn_button": "Earn points",
        "earned": "Receipt {receipt} recorded: +{points} points.",
        "replayed": "Receipt {receipt} was recorded before; no points added again.",
        "rewards": "Redeem a reward",
        "redeem_button": "Redeem {name}",
        "costs": "{points} points",
        "redeemed": "Redeemed “{name}”: voucher {code}.",
        "no_rewards": "No rewards to redeem yet.",
        "enrol": "Enrol a member",
        "name": "Name",
        "consent_sms": "Agrees to SMS messages",
        "consent_zalo": "Agrees to Zalo messages",
        "enrol_button": "Enrol",
        "enrolled": "Member {code} enrolled.",
        "existing": "This phone already belongs to member {code}.",
        "new_lookup": "Next customer",
        "error": "Could not do that: {message}",
        "language": "Tiếng Việt",
        "expired_session": "The session has ended; please sign in again.",
    },
}

#: Currencies written without minor units.
WHOLE_UNITS = {"VND": "₫", "JPY": "¥", "KRW": "₩"}


def group(value: int | Decimal, lang: str) -> str:
    """A whole number with thousands separators: ``1.500.000`` (vi) or ``1,500,000`` (en)."""
    text = f"{int(value):,}"
    return text.replace(",", ".") if lang == "vi" else text


def format_money(amount: Decimal | str | None, currency: str, lang: str) -> str:
    """Money as a shop writes it: ``1.500.000 ₫``, or ``12,50 USD`` with minor units."""
    if amount is None:
        return ""
    value = Decimal(amount)
    if currency in WHOLE_UNITS:
        return f"{group(value.quantize(Decimal(1), ROUND_HALF_UP), lang)} {WHOLE_UNITS[currency]}"
    whole, _, cents = f"{value.quantize(Decimal('0.01'), ROUND_HALF_UP):.2f}".partition(".")
    mark = "," if lang == "vi" else "."
    return f"{group(int(whole), lang)}{mark}{cents} {currency}"


def translator(lang: str):
    """Return ``t(key, **values)`` for one language; unknown keys show themselves."""
    words = TEXT.get(lang, TEXT["vi"])

    def t(key: str, /, **values: object) -> str:
        text = words.get(key, key)
        return text.format(**values) if values else text

    return t


def parse_amount(text: str | None, currency: str) -> Decimal | None:
    """Read an amount a cashier typed: ``150.000`` or ``150,000`` for whole-unit currencies.

    Returns None for anything that is not a positive amount.
    """
    # Separators a cashier types between thousands; whole-unit currencies have no decimals.
    separators = ".," if currency in WHOLE_UNITS else ","
    raw = "".join(c for c in (text or "") if not c.isspace() and c not in separators)
    if not raw or len(raw) > 20:
        return None
    try:
        value = Decimal(raw)
    except ArithmeticError:
        return None
    if not value.is_finite() or value <= 0 or value > Decimal(10) ** 13:
        return None
    return value
