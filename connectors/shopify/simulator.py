"""A simulated Shopify store on loopback, for tests and demos (``hub simulate shopify``).

It speaks the parts of Shopify the connector uses, over real HTTP:

- OAuth: ``GET /admin/oauth/authorize`` approves at once and redirects back
  with ``code``, ``shop``, ``state``, ``timestamp`` and the query ``hmac``;
  ``POST /admin/oauth/access_token`` trades a code (once) for a token.
- GraphQL Admin API at ``/admin/api/<version>/graphql.json`` with
  ``X-Shopify-Access-Token``: ``shop``, ``webhookSubscriptions``,
  ``webhookSubscriptionCreate``, ``scriptTags``, ``scriptTagCreate``,
  ``discountCodeBasicCreate``, ``discountCodeFreeShippingCreate``,
  ``codeDiscountNodeByCode``, ``discountCodeDelete``,
  ``customers``, ``orders`` (with an ``updated_at:>=`` query), ``customersCount``
  and ``ordersCount``. Calls are priced and drawn from a leaky bucket; over
  the limit the answer is ``THROTTLED`` with the cost extensions Shopify sends.
- Webhooks: store actions (a customer signs up, an order is placed, paid,
  refunded, the app uninstalled, privacy requests) send signed deliveries
  with the REST payload shapes to the subscribed URLs, and can send
  duplicates, deliver out of order or forge the signature.

Everything is kept in memory; one simulator is one store.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
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
from hub import storefront_customer

STORE_TZ = timezone(timedelta(hours=7))
API_VERSION = "2026-01"
#: The storefront path of the app proxy, as the app configures it in the Partner Dashboard.
PROXY_PATH = "/apps/loyalty"
COMPLIANCE = ("customers/redact", "customers/data_request", "shop/redact")
ROOTS = (
    "webhookSubscriptionCreate",
    "webhookSubscriptions",
    "scriptTagCreate",
    "scriptTags",
    "discountCodeBasicCreate",
    "discountCodeFreeShippingCreate",
    "codeDiscountNodeByCode",
    "discountCodeDelete",
    "customersCount",
    "ordersCount",
    "customers",
    "orders",
    "shop",
)
ROOT_PATTERN = re.compile(r"\b(" + "|".join(ROOTS) + r")\s*[({]")


def _money(value: Any) -> str:
    return format(Decimal(str(value)).quantize(Decimal("0.01")), "f")


def _now() -> str:
    return datetime.now(STORE_TZ).isoformat(timespec="seconds")


def _topic_name(enum: str) -> str:
    """``ORDERS_PAID`` -> ``orders/paid`` (the webhook header spelling)."""
    head, _, rest = enum.lower().partition("_")
    return f"{head}/{rest}"


#: What every order the shop takes says alike.
_ORDER_DEFAULTS: dict[str, Any] = {
    "app_id": 1354745, "buyer_accepts_marketing": False, "cancel_reason": None,
    "cancelled_at": None, "confirmed": True, "contact_email": None, "customer_locale": "vi",
    "fulfillment_status": None, "gateway": "manual", "source_name": "web", "tags": "",
    "tax_lines": [], "taxes_included": False, "test": False, "total_outstanding": "0.00",
    "total_tax": "0.00", "refunds": [], "shipping_lines": [],
}  # fmt: skip

#: The customer's fields an order carries.
_ORDER_CUSTOMER_FIELDS = (
    "id", "email", "phone", "first_name", "last_name", "accepts_marketing", "created_at",
    "updated_at", "state", "tags", "admin_graphql_api_id",
)  # fmt: skip


class Bucket:
    """Shopify's calculated-cost leaky bucket: ``size`` points, ``rate`` back per second."""

    def __init__(self, size: float = 1000.0, rate: float = 100.0) -> None:
        self.size = size
        self.rate = rate
        self.available = size
        self.at = time.monotonic()

    def refill(self) -> None:
        now = time.monotonic()
        self.available = min(self.size, self.available + (now - self.at) * self.rate)
        self.at = now

    def take(self, cost: float) -> bool:
        self.refill()
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": float(self.size),
            "currentlyAvailable": round(self.available, 1),
            "restoreRate": float(self.rate),
        }


class ShopifySimulator(StoreSimulator):
    """One simulated store. ``with ShopifySimulator(...) as store:`` serves it on loopback."""

    def __init__(
        self,
        *,
        shop: str = "hoa-mai.myshopify.com",
        api_key: str = "sim-api-key",
        api_secret: str = "sim-api-secret",
        webhook_secret: str | None = None,
        compliance_url: str | None = None,
        currency: str = "VND",
        bucket: tuple[float, float] = (1000.0, 100.0),
    ) -> None:
        self.shop = shop
        self.api_key = api_key
        self.api_secret = api_secret
        #: A custom app made in the store's admin signs with its own key.
        self.webhook_secret = webhook_secret or api_secret
        self.compliance_url = compliance_url
        self.currency = currency
        self.bucket = Bucket(*bucket)
        self.subscriptions: list[dict[str, Any]] = []
        self.held: list[dict[str, Any]] = []
        self.throttled = 0
        self.storefront_name = shop
        #: Where the app proxy forwards ``/apps/loyalty/...`` (the app's proxy URL: the hub).
        self.proxy_url: str | None = None
        super().__init__(self._make_app(), first_id=7000000001)

    def issue_token(self) -> str:
        """Make an access token as a custom app's admin page shows it."""
        token = "shpat_" + secrets.token_hex(16)
        self.tokens.add(token)
        return token

    # -- HTTP ------------------------------------------------------------------------

    def _make_app(self) -> Flask:
        app = Flask(f"shopify-simulator-{id(self)}")

        @app.get("/admin/oauth/authorize")
        def authorize():
            args = request.args
            if args.get("client_id") != self.api_key:
                return jsonify({"errors": "unknown client_id"}), 400
            code = secrets.token_hex(16)
            self.codes[code] = True
            params = {
                "code": code,
                "host": base64.b64encode(f"{self.shop}/admin".encode()).decode(),
                "shop": self.shop,
                "state": args.get("state", ""),
                "timestamp": str(int(time.time())),
            }
            message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
            params["hmac"] = hmac.new(
                self.api_secret.encode(), message.encode(), hashlib.sha256
            ).hexdigest()
            return redirect(f"{args['redirect_uri']}?{urlencode(params)}")

        @app.post("/admin/oauth/access_token")
        def access_token():
            data = request.get_json(silent=True) or {}
            if (
                data.get("client_id") != self.api_key
                or data.get("client_secret") != self.api_secret
            ):
                return jsonify({"error": "invalid_client"}), 400
            if not self.codes.pop(data.get("code", ""), None):
                return jsonify({"error": "invalid_request", "error_description": "bad code"}), 400
            token = self.issue_token()
            return jsonify({"access_token": token, "scope": "read_customers,read_orders"})

        @app.post("/admin/api/<version>/graphql.json")
        def graphql(version: str):
            if request.headers.get("X-Shopify-Access-Token") not in self.tokens:
                return jsonify({"errors": "[API] Invalid API key or access token"}), 401
            body = request.get_json(silent=True) or {}
            return jsonify(self._graphql(body.get("query", ""), body.get("variables") or {}))

        @app.route(f"{PROXY_PATH}/<path:rest>", methods=["GET", "POST"])
        def app_proxy(rest: str):
            return self._forward(rest)

        add_storefront(app, self)
        return app

    # -- the storefront --------------------------------------------------------------

    def storefront_scripts(self, customer_id: str | None, locale: str) -> str:
        """The script tags apps installed, as the theme loads them on every page."""
        tags = self.script_tags
        return "".join(f'<script src="{escape(t["src"])}" async></script>' for t in tags)

    def _forward(self, rest: str):
        """The app proxy: pass the request to the app, signed, naming the signed-in customer.

        Shopify adds ``shop``, ``logged_in_customer_id`` (empty for a guest),
        ``path_prefix`` and ``timestamp`` to the query and signs it with the app's
        secret (shopify.dev "Authenticate app proxies").
        """
        if not self.proxy_url:
            return jsonify({"errors": "no app proxy configured"}), 404
        params = [(k, v) for k, v in request.args.items(multi=True) if k != "signature"]
        params += [
            ("shop", self.shop),
            ("logged_in_customer_id", storefront_customer() or ""),
            ("path_prefix", PROXY_PATH),
            ("timestamp", str(int(time.time()))),
        ]
        # Sorted "key=value" pairs joined with nothing between them, repeated keys' values
        # joined by commas, HMAC-SHA256 in hex.
        values: dict[str, list[str]] = {}
        for key, value in params:
            values.setdefault(key, []).append(value)
        message = "".join(f"{k}={','.join(v)}" for k, v in sorted(values.items()))
        digest = hmac.new(self.api_secret.encode(), message.encode(), hashlib.sha256)
        params.append(("signature", digest.hexdigest()))
        answer = requests.request(
            request.method,
            f"{self.proxy_url.rstrip('/')}/{rest}",
            params=params,
            data=request.get_data(),
            headers={"Content-Type": request.headers.get("Content-Type", "application/json")},
            timeout=30,
        )
        kept = {"Content-Type": answer.headers.get("Content-Type", "application/json")}
        return answer.content, answer.status_code, kept

    def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        selection = query[query.index("{") + 1 :] if "{" in query else ""
        roots = list(dict.fromkeys(ROOT_PATTERN.findall(selection)))
        cost = sum(self._cost(root, variables) for root in roots) or 1
        with self.lock:
            if not self.bucket.take(cost):
                self.throttled += 1
                return {
                    "errors": [
                        {
                            "message": "Throttled",
                            "extensions": {
                                "code": "THROTTLED",
                                "documentation": "https://shopify.dev/api/usage/rate-limits",
                            },
                        }
                    ],
                    "extensions": {"cost": self._cost_extension(cost, None)},
                }
            self.calls.extend(roots)
            data = {root: getattr(self, f"_q_{root}")(variables) for root in roots}
            return {"data": data, "extensions": {"cost": self._cost_extension(cost, cost)}}

    def _cost_extension(self, requested: float, actual: float | None) -> dict[str, Any]:
        return {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": self.bucket.status(),
        }

    @staticmethod
    def _cost(root: str, variables: dict[str, Any]) -> int:
        first = int(variables.get("first") or 10)
        if root == "orders":
            return first * 4 + 2
        if root == "customers":
            return first + 2
        if root.endswith("Create"):
            return 10
        return 2

    # -- queries -----------------------------------------------------------------------

    def _q_shop(self, variables):
        return {"name": "Hoa Mai", "currencyCode": self.currency, "myshopifyDomain": self.shop}

    def _q_webhookSubscriptions(self, variables):
        return {"nodes": [dict(s) for s in self.subscriptions]}

    def _q_webhookSubscriptionCreate(self, variables):
        topic, uri = variables.get("topic"), variables.get("uri")
        if any(s["topic"] == topic and s["uri"] == uri for s in self.subscriptions):
            return {
                "webhookSubscription": None,
                "userErrors": [
                    {
                        "field": ["webhookSubscription", "callbackUrl"],
                        "message": "Address for this topic has already been taken",
                    }
                ],
            }
        node = {
            "id": f"gid://shopify/WebhookSubscription/{next(self.ids)}",
            "topic": topic,
            "uri": uri,
        }
        self.subscriptions.append(node)
        return {"webhookSubscription": node, "userErrors": []}

    def _q_scriptTags(self, variables):
        return {"nodes": [dict(s) for s in self.script_tags]}

    def _q_scriptTagCreate(self, variables):
        node = {"id": f"gid://shopify/ScriptTag/{next(self.ids)}", "src": variables.get("src")}
        self.script_tags.append(node)
        return {"scriptTag": node, "userErrors": []}

    def _create_discount(self, variables, needs_gets: bool):
        data = variables.get("input") or {}
        required = ["code", "startsAt", "title"] + (["customerGets"] if needs_gets else [])
        missing = [name for name in required if not data.get(name)]
        if not (data.get("context") or data.get("customerSelection")):
            missing.append("context")
        if missing:
            return {
                "codeDiscountNode": None,
                "userErrors": [
                    {"field": ["input", m], "code": "BLANK", "message": f"{m} can't be blank"}
                    for m in missing
                ],
            }
        if data["code"].upper() in self.discounts:
            return {
                "codeDiscountNode": None,
                "userErrors": [
                    {
                        "field": ["input", "code"],
                        "code": "TAKEN",
                        "message": "Code must be unique. Please try a different code.",
                    }
                ],
            }
        node_id = f"gid://shopify/DiscountCodeNode/{next(self.ids)}"
        self.discounts[data["code"].upper()] = {**data, "id": node_id, "used": 0}
        return {"codeDiscountNode": {"id": node_id}, "userErrors": []}

    def _q_discountCodeBasicCreate(self, variables):
        return self._create_discount(variables, needs_gets=True)

    def _q_discountCodeFreeShippingCreate(self, variables):
        return self._create_discount(variables, needs_gets=False)

    def _q_codeDiscountNodeByCode(self, variables):
        # The code is matched case-insensitively; no such code answers null.
        found = self.discounts.get(str(variables.get("code") or "").upper())
        return {"id": found["id"]} if found else None

    def _q_discountCodeDelete(self, variables):
        for code, discount in list(self.discounts.items()):
            if discount["id"] == variables.get("id"):
                del self.discounts[code]
                return {"deletedCodeDiscountId": discount["id"], "userErrors": []}
        return {
            "deletedCodeDiscountId": None,
            "userErrors": [
                {"field": ["id"], "code": "INVALID", "message": "Discount does not exist"}
            ],
        }

    def _page(self, items: list[dict[str, Any]], variables: dict[str, Any]) -> dict[str, Any]:
        first = int(variables.get("first") or 10)
        after = variables.get("after")
        start = int(base64.b64decode(after).decode()) if after else 0
        chunk = items[start : start + first]
        end = start + len(chunk)
        return {
            "chunk": chunk,
            "pageInfo": {
                "hasNextPage": end < len(items),
                "endCursor": base64.b64encode(str(end).encode()).decode() if chunk else None,
            },
        }

    def _q_customers(self, variables):
        page = self._page([self.customers[k] for k in sorted(self.customers)], variables)
        return {"pageInfo": page["pageInfo"], "nodes": [_customer_node(c) for c in page["chunk"]]}

    def _q_orders(self, variables):
        orders = [self.orders[k] for k in sorted(self.orders)]
        match = re.search(r"updated_at:>='?([^' ]+)'?", variables.get("query") or "")
        if match:
            since = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
            orders = [o for o in orders if datetime.fromisoformat(o["updated_at"]) >= since]
        page = self._page(orders, variables)
        return {"pageInfo": page["pageInfo"], "nodes": [_order_node(o) for o in page["chunk"]]}

    def _q_customersCount(self, variables):
        return {"count": len(self.customers), "precision": "EXACT"}

    def _q_ordersCount(self, variables):
        return {"count": len(self.orders), "precision": "EXACT"}

    # -- store actions -----------------------------------------------------------------

    def add_customer(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        first_name: str = "",
        last_name: str = "",
        notify: bool = True,
    ) -> dict[str, Any]:
        """A customer signs up; ``customers/create`` is sent when ``notify``."""
        customer_id = next(self.ids)
        now = _now()
        customer = {
            "id": customer_id,
            "email": email,
            "phone": phone,
            "accepts_marketing": False,
            "created_at": now,
            "updated_at": now,
            "first_name": first_name,
            "last_name": last_name,
            "orders_count": 0,
            "state": "enabled",
            "total_spent": "0.00",
            "last_order_id": None,
            "note": None,
            "verified_email": True,
            "tax_exempt": False,
            "tags": "",
            "currency": self.currency,
            "addresses": [],
            "email_marketing_consent": {
                "state": "not_subscribed",
                "opt_in_level": "single_opt_in",
                "consent_updated_at": None,
            },
            "sms_marketing_consent": {
                "state": "not_subscribed",
                "opt_in_level": "single_opt_in",
                "consent_updated_at": None,
                "consent_collected_from": "SHOPIFY",
            },
            "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
            "default_address": None,
        }
        return self.keep_customer(customer, notify=notify)

    def place_order(
        self,
        *,
        customer: dict[str, Any] | None = None,
        lines: list[tuple[str, Any, int]] = (("Cà phê sữa đá", "250000", 2),),
        financial_status: str = "paid",
        discount_code: str | None = None,
        processed_at: str | None = None,
        email: str | None = None,
        notify: bool = True,
    ) -> dict[str, Any]:
        """A checkout completes; ``orders/create`` (and ``orders/paid`` if paid) is sent."""
        order_id = next(self.ids)
        subtotal = sum(Decimal(str(price)) * qty for _, price, qty in lines)
        discount, codes = self._apply_code(discount_code, subtotal)
        now = _now()
        number = 1000 + len(self.orders) + 1
        order = {
            **copy.deepcopy(_ORDER_DEFAULTS),
            "id": order_id,
            "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
            "created_at": now,
            "currency": self.currency,
            "current_subtotal_price": _money(subtotal - discount),
            "current_total_discounts": _money(discount),
            "current_total_price": _money(subtotal - discount),
            "discount_codes": codes,
            "email": (customer or {}).get("email") or email or "",
            "phone": (customer or {}).get("phone"),
            "financial_status": financial_status,
            "name": f"#{number}",
            "number": number - 1000,
            "order_number": number,
            "processed_at": processed_at or now,
            "subtotal_price": _money(subtotal - discount),
            "total_discounts": _money(discount),
            "total_line_items_price": _money(subtotal),
            "total_price": _money(subtotal - discount),
            "total_price_set": self._money_set(_money(subtotal - discount)),
            "total_shipping_price_set": self._money_set("0.00"),
            "updated_at": now,
            "line_items": [
                self._line_item(index, title, price, qty)
                for index, (title, price, qty) in enumerate(lines)
            ],
        }
        if customer is not None:
            order["customer"] = {k: customer[k] for k in _ORDER_CUSTOMER_FIELDS}
        return self.keep_order(order, notify=notify)

    def _apply_code(
        self, discount_code: str | None, subtotal: Decimal
    ) -> tuple[Decimal, list[dict[str, Any]]]:
        """The discount a code the shop knows gives on ``subtotal``, and the order's codes."""
        if not discount_code:
            return Decimal(0), []
        discount = Decimal(0)
        known = self.discounts.get(discount_code.upper())
        if known is not None:
            gets = (known.get("customerGets") or {}).get("value") or {}
            if "discountAmount" in gets:
                discount = min(Decimal(str(gets["discountAmount"]["amount"])), subtotal)
            elif "percentage" in gets:
                discount = (subtotal * Decimal(str(gets["percentage"]))).quantize(Decimal(1))
            known["used"] += 1
        return discount, [
            {"code": discount_code, "amount": _money(discount), "type": "fixed_amount"}
        ]

    def _money_set(self, amount: str) -> dict[str, Any]:
        money = {"amount": amount, "currency_code": self.currency}
        return {"shop_money": money, "presentment_money": dict(money)}

    def _line_item(self, index: int, title: str, price: Any, qty: int) -> dict[str, Any]:
        return {
            "id": next(self.ids),
            "admin_graphql_api_id": "gid://shopify/LineItem/0",
            "fulfillable_quantity": qty,
            "gift_card": False,
            "grams": 0,
            "name": title,
            "price": _money(price),
            "product_exists": True,
            "product_id": 8222223204662,
            "properties": [],
            "quantity": qty,
            "requires_shipping": True,
            "sku": f"SKU-{index}",
            "taxable": True,
            "title": title,
            "total_discount": "0.00",
            "variant_id": 44872881439030,
            "vendor": "Hoa Mai",
            "tax_lines": [],
            "duties": [],
            "discount_allocations": [],
        }

    def _touch(self, order: dict[str, Any]) -> None:
        order["updated_at"] = _now()

    def pay_order(self, order_id: int, *, notify: bool = True) -> dict[str, Any]:
        order = self.orders[order_id]
        order["financial_status"] = "paid"
        self._touch(order)
        if notify:
            self.send("orders/paid", order)
            self.send("orders/updated", order)
        return order

    def refund(self, order_id: int, amount: Any, *, notify: bool = True) -> dict[str, Any]:
        """Refund ``amount`` of an order; ``refunds/create`` and ``orders/updated`` are sent."""
        order = self.orders[order_id]
        refund_id = next(self.ids)
        refund = {
            "id": refund_id,
            "order_id": order_id,
            "created_at": _now(),
            "note": "Khách trả hàng",
            "restock": True,
            "user_id": 94873289014,
            "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
            "refund_line_items": [],
            "transactions": [
                {
                    "id": next(self.ids),
                    "order_id": order_id,
                    "kind": "refund",
                    "status": "success",
                    "amount": _money(amount),
                    "currency": self.currency,
                    "gateway": "manual",
                }
            ],
        }
        order["refunds"].append(refund)
        refunded = sum(Decimal(r["transactions"][0]["amount"]) for r in order["refunds"])
        full = refunded >= Decimal(order["total_price"])
        order["financial_status"] = "refunded" if full else "partially_refunded"
        self._touch(order)
        if notify:
            self.send("refunds/create", refund)
            self.send("orders/updated", order)
        return refund

    def uninstall(self) -> None:
        """The merchant removes the app: tokens stop working, subscriptions go, one last webhook."""
        shop = {"id": 954889, "name": "Hoa Mai", "domain": self.shop, "myshopify_domain": self.shop}
        targets = [s["uri"] for s in self.subscriptions if s["topic"] == "APP_UNINSTALLED"]
        with self.lock:
            self.tokens.clear()
            self.subscriptions.clear()
        for url in targets:
            self._post(url, "app/uninstalled", shop)

    def redact_customer(self, customer_id: int) -> list[dict[str, Any]]:
        customer = self.customers[customer_id]
        payload = {
            "shop_id": 954889,
            "shop_domain": self.shop,
            "customer": {
                "id": customer_id,
                "email": customer.get("email"),
                "phone": customer.get("phone"),
            },
            "orders_to_redact": [
                o["id"]
                for o in self.orders.values()
                if (o.get("customer") or {}).get("id") == customer_id
            ],
        }
        return self.send("customers/redact", payload)

    def request_customer_data(self, customer_id: int) -> list[dict[str, Any]]:
        customer = self.customers[customer_id]
        payload = {
            "shop_id": 954889,
            "shop_domain": self.shop,
            "orders_requested": [
                o["id"]
                for o in self.orders.values()
                if (o.get("customer") or {}).get("id") == customer_id
            ],
            "customer": {
                "id": customer_id,
                "email": customer.get("email"),
                "phone": customer.get("phone"),
            },
            "data_request": {"id": next(self.ids)},
        }
        return self.send("customers/data_request", payload)

    def redact_shop(self) -> list[dict[str, Any]]:
        return self.send("shop/redact", {"shop_id": 954889, "shop_domain": self.shop})

    def drop_subscriptions(self) -> None:
        """Shopify removes subscriptions whose deliveries kept failing."""
        with self.lock:
            self.subscriptions.clear()

    # -- deliveries ------------------------------------------------------------------

    def targets(self, topic: str) -> list[str]:
        if topic in COMPLIANCE:
            return [self.compliance_url] if self.compliance_url else []
        return [s["uri"] for s in self.subscriptions if _topic_name(s["topic"]) == topic]

    def send(
        self,
        topic: str,
        payload: Any,
        *,
        times: int = 1,
        forge: bool = False,
        event_id: str | None = None,
        hold: bool = False,
    ) -> list[dict[str, Any]]:
        """Deliver ``payload`` to every URL subscribed to ``topic``; return the answers.

        ``times`` sends the same event again (new webhook id, same event id);
        ``forge`` signs with a wrong key; ``hold`` keeps the deliveries to
        release later with ``release`` (to deliver out of order).
        """
        event = event_id or str(uuid.uuid4())
        body = json.dumps(payload).encode()
        answers = []
        for url in self.targets(topic):
            for _ in range(times):
                delivery = self._delivery(url, topic, body, event, forge)
                if hold:
                    self.held.append(delivery)
                else:
                    answers.append(self._deliver(delivery))
        return answers

    def _delivery(self, url: str, topic: str, body: bytes, event: str, forge: bool) -> dict:
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": body_signature(
                "forged-key" if forge else self.webhook_secret, body
            ),
            "X-Shopify-Shop-Domain": self.shop,
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": event,
            "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
        }
        return {"url": url, "topic": topic, "body": body, "headers": headers}

    def _post(self, url: str, topic: str, payload: Any) -> dict[str, Any]:
        body = json.dumps(payload).encode()
        return self._deliver(self._delivery(url, topic, body, str(uuid.uuid4()), False))

    def _deliver(self, delivery: dict[str, Any]) -> dict[str, Any]:
        return self.post_delivery(
            delivery["url"], delivery["topic"], delivery["body"], delivery["headers"]
        )

    def release(self, *, reverse: bool = True) -> list[dict[str, Any]]:
        """Deliver the held deliveries, last first by default (out of order)."""
        held, self.held = self.held, []
        return [self._deliver(d) for d in (reversed(held) if reverse else held)]


def _customer_node(customer: dict[str, Any]) -> dict[str, Any]:
    address = customer.get("default_address") or None
    return {
        "id": customer["admin_graphql_api_id"],
        "legacyResourceId": str(customer["id"]),
        "firstName": customer.get("first_name"),
        "lastName": customer.get("last_name"),
        "tags": [t.strip() for t in (customer.get("tags") or "").split(",") if t.strip()],
        "defaultEmailAddress": {"emailAddress": customer["email"]}
        if customer.get("email")
        else None,
        "defaultPhoneNumber": {"phoneNumber": customer["phone"]} if customer.get("phone") else None,
        "defaultAddress": address,
    }


def _set(amount: Any, currency: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


def _order_node(order: dict[str, Any]) -> dict[str, Any]:
    currency = order["currency"]
    customer = order.get("customer")
    return {
        "id": order["admin_graphql_api_id"],
        "legacyResourceId": str(order["id"]),
        "name": order["name"],
        "email": order.get("email"),
        "phone": order.get("phone"),
        "createdAt": order["created_at"],
        "processedAt": order["processed_at"],
        "updatedAt": order["updated_at"],
        "cancelledAt": order.get("cancelled_at"),
        "currencyCode": currency,
        "displayFinancialStatus": order["financial_status"].upper(),
        "discountCodes": [c["code"] for c in order.get("discount_codes") or []],
        "subtotalPriceSet": _set(order["subtotal_price"], currency),
        "totalPriceSet": _set(order["total_price"], currency),
        "totalDiscountsSet": _set(order["total_discounts"], currency),
        "totalTaxSet": _set(order["total_tax"], currency),
        "totalShippingPriceSet": _set(
            order["total_shipping_price_set"]["shop_money"]["amount"], currency
        ),
        "customer": {
            "legacyResourceId": str(customer["id"]),
            "firstName": customer.get("first_name"),
            "lastName": customer.get("last_name"),
            "defaultEmailAddress": {"emailAddress": customer["email"]}
            if customer.get("email")
            else None,
            "defaultPhoneNumber": {"phoneNumber": customer["phone"]}
            if customer.get("phone")
            else None,
        }
        if customer
        else None,
        "lineItems": {
            "nodes": [
                {
                    "quantity": line["quantity"],
                    "sku": line.get("sku"),
                    "title": line["title"],
                    "originalUnitPriceSet": _set(line["price"], currency),
                    "totalDiscountSet": _set(line.get("total_discount", "0.00"), currency),
                    "product": {"legacyResourceId": str(line.get("product_id"))},
                    "variant": {"legacyResourceId": str(line.get("variant_id"))},
                }
                for line in order["line_items"]
            ]
        },
        "refunds": [
            {
                "legacyResourceId": str(refund["id"]),
                "createdAt": refund["created_at"],
                "note": refund.get("note"),
                "totalRefundedSet": _set(refund["transactions"][0]["amount"], currency),
            }
            for refund in order.get("refunds") or []
        ],
    }
