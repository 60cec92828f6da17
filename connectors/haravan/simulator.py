"""A simulated Haravan shop on loopback, for tests and demos (``hub simulate haravan``).

One server stands in for the three Haravan hosts the connector calls (point
the operator's ``HUB_PLUGINS_CONFIG["haravan"]`` ``accounts_url``, ``api_url``
and ``webhook_api_url`` at it, with ``HUB_ALLOW_PRIVATE_TARGETS`` on):

- accounts: ``GET /connect/authorize`` approves at once and redirects back
  with ``code`` and ``state`` (``response_mode=query``); ``POST /connect/token``
  trades the code for an access token and an ``id_token`` naming the shop.
- webhooks: ``POST /api/subscribe`` first checks the app's callback URL with
  the ``hub.mode``/``hub.verify_token``/``hub.challenge`` GET, then keeps the
  topics; ``GET /api/subscribe`` lists them.
- commerce API: customers, orders (``page``/``limit``/``updated_at_min``),
  counts, ``/com/shop.json``, ``POST /com/discounts.json`` and
  ``PUT /com/discounts/{id}/enable.json``/``disable.json`` (a disabled code
  takes nothing off an order); storefront API:
  ``/web/script_tags.json``. Calls go through the 80-call bucket draining 4 a
  second, with ``X-Haravan-Api-Call-Limit`` on each answer and 429 with
  ``Retry-After: 2.0`` when full.

Shop actions send signed webhooks (``X-Haravan-Hmacsha256``, ``X-Haravan-Topic``,
``X-Haravan-Org-Id``) with the documented order and customer shapes (numbers
for money), to the app callback URL; duplicates and forged signatures too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import urlencode

import requests
from flask import Flask
from flask import jsonify
from flask import redirect
from flask import request

from hub import StoreSimulator
from hub import add_storefront
from hub import body_signature


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


#: The customer's fields an order carries.
_ORDER_CUSTOMER_FIELDS = (
    "id", "email", "phone", "first_name", "last_name", "birthday", "gender", "default_address",
)  # fmt: skip


class LeakyBucket:
    """Haravan's call limit: ``size`` calls, leaking ``rate`` a second."""

    def __init__(self, size: int = 80, rate: float = 4.0) -> None:
        self.size, self.rate = size, rate
        self.level = 0.0
        self.at = time.monotonic()

    def add(self) -> bool:
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self.at) * self.rate)
        self.at = now
        if self.level + 1 > self.size:
            return False
        self.level += 1
        return True


class HaravanSimulator(StoreSimulator):
    """One simulated Haravan shop. ``with HaravanSimulator(...) as shop:`` serves it."""

    def __init__(
        self,
        *,
        org_id: str = "1000114691",
        client_id: str = "sim-client-id",
        client_secret: str = "sim-client-secret",
        callback_url: str | None = None,
        verify_token: str = "sim-verify-token",
        bucket: tuple[int, float] = (80, 4.0),
        role: str = "admin",
    ) -> None:
        self.org_id = org_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.callback_url = callback_url
        self.verify_token = verify_token
        self.role = role
        self.bucket = LeakyBucket(*bucket)
        self.topics: list[str] = []
        self.storefront_name = f"Haravan shop {org_id}"
        #: A theme's pasted widget snippet: (hub URL, connection id, widget secret). The
        #: theme's server signs the signed-in customer's token; without it, the ScriptTags.
        self.widget_snippet: tuple[str, int, str] | None = None
        self.challenges: list[int] = []
        self.limited = 0
        super().__init__(self._make_app(), first_id=1138637099)

    def issue_token(self) -> str:
        """Make a private app's token, as the developer dashboard shows it."""
        token = secrets.token_hex(24)
        self.tokens.add(token)
        return token

    # -- HTTP ------------------------------------------------------------------------

    def _make_app(self) -> Flask:
        app = Flask(f"haravan-simulator-{id(self)}")
        self._add_oauth(app)
        self._add_subscribe(app)
        self._add_limit(app)
        self._add_admin(app)
        self._add_writes(app)
        add_storefront(app, self)
        return app

    def storefront_scripts(self, customer_id: str | None, locale: str) -> str:
        """The theme's widget: its pasted snippet with a signed token, or the ScriptTags."""
        if self.widget_snippet is None:
            tags = self.script_tags
            return "".join(f'<script src="{escape(t["src"])}" async></script>' for t in tags)
        hub_url, connection_id, secret = self.widget_snippet
        token = _visitor_token(customer_id, secret) if customer_id else ""
        return (
            f'<script src="{escape(hub_url)}/widget/v1/loader.js" data-connection="{connection_id}"'
            f' data-token="{token}" data-locale="{locale}" async></script>'
        )

    def _authorised(self) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.tokens

    def _add_oauth(self, app: Flask) -> None:
        shop = self

        @app.get("/connect/authorize")
        def authorize():
            args = request.args
            if args.get("client_id") != shop.client_id or args.get("response_type") != "code":
                return jsonify({"error": "invalid_request"}), 400
            code = secrets.token_hex(16)
            shop.codes[code] = args.get("nonce", "")
            query = urlencode({"code": code, "state": args.get("state", "")})
            return redirect(f"{args['redirect_uri']}?{query}")

        @app.post("/connect/token")
        def token():
            form = request.form
            if (
                form.get("client_id") != shop.client_id
                or form.get("client_secret") != shop.client_secret
            ):
                return jsonify({"error": "invalid_client"}), 401
            nonce = shop.codes.pop(form.get("code", ""), None)
            if nonce is None or form.get("grant_type") != "authorization_code":
                return jsonify({"error": "invalid_grant"}), 400
            access = shop.issue_token()
            claims = {
                "sub": "200000001",
                "orgid": shop.org_id,
                "orgname": "Trà Sen",
                "role": [shop.role],
                "nonce": nonce,
                "iat": int(time.time()),
            }
            id_token = f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.c2lnbmF0dXJl"
            return jsonify(
                {
                    "access_token": access,
                    "id_token": id_token,
                    "expires_in": 86400,
                    "token_type": "Bearer",
                    "refresh_token": secrets.token_hex(16),
                }
            )

    def _add_subscribe(self, app: Flask) -> None:
        shop = self

        @app.route("/api/subscribe", methods=["GET", "POST", "DELETE"])
        def subscribe():
            if not shop._authorised():
                return jsonify({"error": "unauthorized"}), 401
            if request.method == "GET":
                return jsonify({"topics": list(shop.topics)})
            if request.method == "DELETE":
                shop.topics.clear()
                return jsonify({"topics": []})
            challenge = secrets.token_hex(8)
            answer = requests.get(
                shop.callback_url or "",
                params={
                    "hub.mode": "subscribe",
                    "hub.verify_token": shop.verify_token,
                    "hub.challenge": challenge,
                },
                timeout=shop.delivery_timeout,
            )
            shop.challenges.append(answer.status_code)
            if answer.status_code != 200 or answer.text != challenge:
                return jsonify({"error": "callback URL did not echo the challenge"}), 400
            for topic in (request.get_json(silent=True) or {}).get("topics") or []:
                if topic not in shop.topics:
                    shop.topics.append(topic)
            return jsonify({"topics": list(shop.topics)})

    def _add_limit(self, app: Flask) -> None:
        shop = self

        @app.before_request
        def limit():
            if not request.path.startswith(("/com/", "/web/")):
                return None
            if not shop._authorised():
                return jsonify({"errors": "Not Authorized"}), 401
            with shop.lock:
                allowed = shop.bucket.add()
            if not allowed:
                shop.limited += 1
                response = jsonify({"errors": "Exceeded 80 calls per second for api client."})
                response.status_code = 429
                response.headers["Retry-After"] = "2.0"
                return response
            shop.calls.append(f"{request.method} {request.path}")
            return None

        @app.after_request
        def level(response):
            if request.path.startswith(("/com/", "/web/")):
                response.headers["X-Haravan-Api-Call-Limit"] = (
                    f"{round(shop.bucket.level)}/{shop.bucket.size}"
                )
            return response

    def _add_admin(self, app: Flask) -> None:
        shop = self

        @app.get("/com/shop.json")
        def shop_info():
            return jsonify({"shop": {"id": int(shop.org_id), "name": "Trà Sen", "currency": "VND"}})

        def page(items):
            number = int(request.args.get("page") or 1)
            size = min(int(request.args.get("limit") or 50), 50)
            return items[(number - 1) * size : number * size]

        @app.get("/com/customers.json")
        def customers():
            return jsonify({"customers": page([shop.customers[k] for k in sorted(shop.customers)])})

        @app.get("/com/customers/count.json")
        def customers_count():
            return jsonify({"count": len(shop.customers)})

        @app.get("/com/orders.json")
        def orders():
            rows = [shop.orders[k] for k in sorted(shop.orders)]
            since = request.args.get("updated_at_min")
            if since:
                moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
                rows = [
                    o
                    for o in rows
                    if datetime.fromisoformat(o["updated_at"].replace("Z", "+00:00")) >= moment
                ]
            return jsonify({"orders": page(rows)})

        @app.get("/com/orders/count.json")
        def orders_count():
            return jsonify({"count": len(shop.orders)})

    def _add_writes(self, app: Flask) -> None:
        shop = self

        @app.post("/com/discounts.json")
        def discounts():
            data = (request.get_json(silent=True) or {}).get("discount") or {}
            code = (data.get("code") or "").upper()
            if not code or data.get("discount_type") not in ("fixed_amount", "percentage"):
                return jsonify(
                    {"errors": {"discount": ["code and discount_type are required"]}}
                ), 422
            if code in shop.discounts:
                return jsonify({"errors": {"code": ["Mã khuyến mãi already exists"]}}), 422
            known = {**data, "id": next(shop.ids), "times_used": 0, "is_active": True}
            shop.discounts[code] = known
            return jsonify({"discount": shop.discounts[code]}), 201

        @app.put("/com/discounts/<int:discount_id>/<any(enable, disable):action>.json")
        def switch_discount(discount_id, action):
            for known in shop.discounts.values():
                if known["id"] == discount_id:
                    known["is_active"] = action == "enable"
                    return jsonify({"discount": known})
            return jsonify({"errors": "Not Found"}), 404

        @app.route("/web/script_tags.json", methods=["GET", "POST"])
        def script_tags():
            if request.method == "GET":
                return jsonify({"script_tags": shop.script_tags})
            data = (request.get_json(silent=True) or {}).get("script_tag") or {}
            tag = {
                "id": next(shop.ids),
                "event": data.get("event"),
                "src": data.get("src"),
                "display_scope": "all",
                "created_at": _now(),
                "updated_at": _now(),
            }
            shop.script_tags.append(tag)
            return jsonify({"script_tag": tag}), 201

    # -- shop actions ------------------------------------------------------------------

    def add_customer(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        first_name: str = "",
        last_name: str | None = None,
        birthday: str | None = None,
        gender: int | None = None,
        notify: bool = True,
    ) -> dict[str, Any]:
        customer_id = next(self.ids)
        address = {
            "address1": "182 Lê Đại Hành",
            "address2": None,
            "city": None,
            "company": None,
            "country": "Vietnam",
            "first_name": first_name,
            "id": next(self.ids),
            "last_name": last_name,
            "phone": phone,
            "province": "Hồ Chí Minh",
            "zip": "70000",
            "name": first_name,
            "province_code": "HC",
            "country_code": "vn",
            "default": True,
            "district": "Quận 11",
            "district_code": "HC476",
            "ward": "Phường 15",
            "ward_code": "27208",
        }
        customer = {
            "accepts_marketing": False,
            "addresses": [address],
            "created_at": _now(),
            "default_address": address,
            "email": email,
            "phone": phone,
            "first_name": first_name,
            "id": customer_id,
            "multipass_identifier": None,
            "last_name": last_name,
            "last_order_id": None,
            "last_order_name": None,
            "note": None,
            "orders_count": 0,
            "state": "Disabled",
            "tags": None,
            "total_spent": 0.0,
            "total_paid": 0.0,
            "updated_at": _now(),
            "verified_email": False,
            "group_name": None,
            "birthday": birthday,
            "gender": gender,
            "last_order_date": None,
        }
        return self.keep_customer(customer, notify=notify)

    def place_order(
        self,
        *,
        customer: dict[str, Any] | None = None,
        lines: list[tuple[str, float, int]] = (("Trà sen", 300000.0, 2),),
        financial_status: str = "paid",
        discount_code: str | None = None,
        created_at: str | None = None,
        notify: bool = True,
    ) -> dict[str, Any]:
        order_id = next(self.ids)
        subtotal = sum(price * qty for _, price, qty in lines)
        discount, codes = self._apply_code(discount_code, subtotal)
        number = f"#{100000 + len(self.orders) + 1}"
        now = created_at or _now()
        order = {
            "browser_ip": None,
            "buyer_accepts_marketing": False,
            "cancel_reason": None,
            "cancelled_at": None,
            "cart_token": secrets.token_hex(16),
            "closed_at": None,
            "created_at": now,
            "currency": "VND",
            "email": (customer or {}).get("email"),
            "financial_status": financial_status,
            "fulfillment_status": "notfulfilled",
            "tags": None,
            "gateway": "COD",
            "id": order_id,
            "name": number,
            "number": order_id,
            "order_number": number,
            "source": "web",
            "source_name": "web",
            "subtotal_price": subtotal - discount,
            "tax_lines": None,
            "taxes_included": False,
            "total_discounts": discount,
            "total_line_items_price": subtotal,
            "total_price": subtotal - discount,
            "total_tax": 0.0,
            "total_weight": 0.0,
            "updated_at": now,
            "location_id": 963414,
            "contact_email": (customer or {}).get("email"),
            "discount_codes": codes,
            "refunds": [],
            "shipping_lines": [],
            "transactions": [],
            "shipping_address": (customer or {}).get("default_address"),
            "line_items": [self._line_item(title, price, qty) for title, price, qty in lines],
            "customer": {k: customer[k] for k in _ORDER_CUSTOMER_FIELDS} if customer else None,
        }
        return self.keep_order(order, notify=notify)

    def _apply_code(
        self, discount_code: str | None, subtotal: float
    ) -> tuple[float, list[dict[str, Any]]]:
        """The discount an active code of the shop gives on ``subtotal``, and the order's codes."""
        known = self.discounts.get((discount_code or "").upper())
        if known is None or not known["is_active"]:
            return 0.0, []
        if known["discount_type"] == "fixed_amount":
            discount = min(float(known["value"]), subtotal)
        else:
            discount = round(subtotal * float(known["value"]) / 100)
        known["times_used"] += 1
        return discount, [
            {"code": discount_code, "amount": discount, "type": known["discount_type"]}
        ]

    def _line_item(self, title: str, price: float, qty: int) -> dict[str, Any]:
        return {
            "fulfillable_quantity": qty,
            "fulfillment_service": None,
            "fulfillment_status": "notfulfilled",
            "grams": 0.0,
            "id": next(self.ids),
            "price": price,
            "price_original": price,
            "price_promotion": 0.0,
            "product_id": 1028183659,
            "quantity": qty,
            "requires_shipping": True,
            "sku": None,
            "title": title,
            "variant_id": 1061514693,
            "variant_title": "Default Title",
            "vendor": "Khác",
            "type": "Khác",
            "name": f"{title} - Default Title",
            "gift_card": False,
            "taxable": True,
            "tax_lines": None,
            "product_exists": True,
            "barcode": None,
            "properties": None,
            "total_discount": 0.0,
            "applied_discounts": [],
            "not_allow_promotion": False,
            "ma_cost_amount": 0.0,
        }

    def refund(self, order_id: int, amount: float, *, notify: bool = True) -> dict[str, Any]:
        """Refund part of an order; Haravan reports it in ``orders/updated``."""
        order = self.orders[order_id]
        refund = {
            "id": next(self.ids),
            "created_at": _now(),
            "note": "Khách trả hàng",
            "order_id": order_id,
            "refund_line_items": [],
            "transactions": [
                {
                    "id": next(self.ids),
                    "amount": amount,
                    "kind": "refund",
                    "status": "success",
                    "gateway": "COD",
                }
            ],
        }
        order["refunds"].append(refund)
        refunded = sum(r["transactions"][0]["amount"] for r in order["refunds"])
        order["financial_status"] = (
            "refunded" if refunded >= order["total_price"] else "partially_refunded"
        )
        order["updated_at"] = _now()
        if notify:
            self.send("orders/updated", order)
        return refund

    def uninstall(self) -> list[dict[str, Any]]:
        """The owner removes the app: the tokens stop working and ``app/uninstalled`` is sent."""
        with self.lock:
            self.tokens.clear()
        answers = self.send("app/uninstalled", {"org_id": self.org_id, "client_id": self.client_id})
        with self.lock:
            self.topics.clear()
        return answers

    # -- deliveries ------------------------------------------------------------------

    def send(
        self, topic: str, payload: Any, *, times: int = 1, forge: bool = False, test: bool = False
    ) -> list[dict[str, Any]]:
        """POST ``payload`` to the app callback URL if ``topic`` is subscribed; return answers."""
        if topic not in self.topics or not self.callback_url:
            return []
        body = json.dumps(payload, ensure_ascii=False).encode()
        key = "forged-key" if forge else self.client_secret
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Haravan-Hmacsha256": body_signature(key, body),
            "X-Haravan-Topic": topic,
            "X-Haravan-Org-Id": self.org_id,
            "X-Haravan-Subscription-Id": "6141d6266e269fed5b515c89",
        }
        if test:
            headers["X-Haravan-Test"] = "true"
        return [self.post_delivery(self.callback_url, topic, body, headers) for _ in range(times)]


def _visitor_token(customer_id: str, secret: str) -> str:
    """What the theme's server signs for the signed-in customer (docs/widget.md)."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": str(customer_id), "iat": now, "exp": now + 300}).encode())
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"
