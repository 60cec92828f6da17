"""A simulated store's own pages: the storefront with its scripts, sign-up and sign-in.

A store simulator (Shopify, Haravan) adds these to its WSGI app so a browser walks
a shopper through the store as the platform serves it: the storefront page carries
what the store puts there for the widget (the script tags the hub installed, or a
theme's pasted snippet), the sign-up page creates a customer the way the platform
does (its ``customers/create`` webhook reaches the hub before the page answers),
and the store keeps who is signed in in its own cookie. The pages speak Vietnamese
or English, as the shopper chose on the storefront.
"""

from __future__ import annotations

from html import escape
from typing import Any
from typing import Protocol

from flask import Flask
from flask import make_response
from flask import redirect
from flask import request

#: The store's own session cookie: the id of the signed-in customer.
CUSTOMER_COOKIE = "store_customer"
LOCALE_COOKIE = "store_locale"

WORDS = {
    "vi": {
        "welcome": "Chào mừng đến với cửa hàng.",
        "register": "Tạo tài khoản",
        "sign_in": "Đăng nhập",
        "sign_out": "Đăng xuất",
        "name": "Họ tên",
        "phone": "Số điện thoại",
        "contact": "Số điện thoại hoặc email",
        "create": "Đăng ký",
        "missing": "Vui lòng nhập số điện thoại hoặc email.",
        "unknown": "Không có tài khoản nào với số điện thoại hoặc email này.",
    },
    "en": {
        "welcome": "Welcome to the store.",
        "register": "Create an account",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "name": "Name",
        "phone": "Phone",
        "contact": "Phone or email",
        "create": "Create account",
        "missing": "Enter a phone number or an email.",
        "unknown": "No account has this phone number or email.",
    },
}


class SimulatedShop(Protocol):
    """What the pages need of a store simulator."""

    storefront_name: str
    customers: dict[int, dict[str, Any]]

    def add_customer(self, **fields: Any) -> dict[str, Any]: ...

    def storefront_scripts(self, customer_id: str | None, locale: str) -> str:
        """The HTML the store puts before ``</body>`` for the widget."""
        ...


def add_storefront(app: Flask, shop: SimulatedShop) -> None:
    """Serve ``/`` (the storefront), ``/account/register``, ``/account/login`` and logout."""

    @app.get("/")
    def storefront():
        locale = _locale()
        customer = storefront_customer()
        words = WORDS[locale]
        links = (
            f'<a href="/account/logout">{words["sign_out"]}</a>'
            if customer
            else f'<a href="/account/register">{words["register"]}</a> · '
            f'<a href="/account/login">{words["sign_in"]}</a>'
        )
        body = f"<p>{words['welcome']}</p><p>{links}</p>"
        page = _page(shop, locale, body, shop.storefront_scripts(customer, locale))
        response = make_response(page)
        response.set_cookie(LOCALE_COOKIE, locale, samesite="Lax")
        return response

    @app.route("/account/register", methods=["GET", "POST"])
    def register():
        locale = _locale()
        if request.method == "GET":
            return _page(shop, locale, _register_form(locale))
        phone = request.form.get("phone", "").strip() or None
        email = request.form.get("email", "").strip() or None
        if not phone and not email:
            return _page(shop, locale, _register_form(locale, "missing")), 422
        first, _, last = request.form.get("name", "").strip().partition(" ")
        customer = shop.add_customer(phone=phone, email=email, first_name=first, last_name=last)
        return _signed_in(customer["id"])

    @app.route("/account/login", methods=["GET", "POST"])
    def login():
        locale = _locale()
        if request.method == "GET":
            return _page(shop, locale, _login_form(locale))
        contact = request.form.get("contact", "").strip().lower()
        for customer in list(shop.customers.values()):
            if contact and contact in (str(customer.get("email")).lower(), customer.get("phone")):
                return _signed_in(customer["id"])
        return _page(shop, locale, _login_form(locale, "unknown")), 404

    @app.get("/account/logout")
    def logout():
        response = redirect("/")
        response.delete_cookie(CUSTOMER_COOKIE)
        return response


def storefront_customer() -> str | None:
    """The id of the customer signed in to the simulated store, from the store's cookie."""
    return request.cookies.get(CUSTOMER_COOKIE) or None


def _locale() -> str:
    chosen = request.args.get("locale") or request.cookies.get(LOCALE_COOKIE)
    return "en" if chosen == "en" else "vi"


def _signed_in(customer_id: Any):
    response = redirect("/")
    response.set_cookie(CUSTOMER_COOKIE, str(customer_id), httponly=True, samesite="Lax")
    return response


def _field(name: str, label: str, kind: str = "text") -> str:
    return f'<label for="{name}">{label}</label><input id="{name}" name="{name}" type="{kind}">'


def _error(locale: str, error: str | None) -> str:
    return f'<p role="alert">{WORDS[locale][error]}</p>' if error else ""


def _register_form(locale: str, error: str | None = None) -> str:
    words = WORDS[locale]
    return (
        f"<h2>{words['register']}</h2>{_error(locale, error)}"
        '<form method="post" action="/account/register">'
        f"{_field('name', words['name'])}{_field('phone', words['phone'], 'tel')}"
        f"{_field('email', 'Email', 'email')}<button>{words['create']}</button></form>"
    )


def _login_form(locale: str, error: str | None = None) -> str:
    words = WORDS[locale]
    return (
        f"<h2>{words['sign_in']}</h2>{_error(locale, error)}"
        '<form method="post" action="/account/login">'
        f"{_field('contact', words['contact'])}<button>{words['sign_in']}</button></form>"
    )


def _page(shop: SimulatedShop, locale: str, body: str, scripts: str = "") -> str:
    name = escape(shop.storefront_name)
    return (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{name}</title><style>body{{font-family:Georgia,serif;margin:24px}}"
        "label,input,button{display:block;margin:6px 0;min-height:44px;font:inherit}</style>"
        f'</head><body><h1><a href="/">{name}</a></h1>{body}{scripts}</body></html>'
    )
