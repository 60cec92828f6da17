"""eSMS.vn on loopback: SendMultipleMessage_V4 (SMS) and SendZaloMessage_V4 (ZNS), GET callbacks.

``send_mo`` plays a person texting the merchant's short code: eSMS calls the
partner's URL with GET, the MO's fields and an MD5 ``sign`` made with the
CP's private key.

Answers ``{"CodeResult": "100", "SMSID": ...}`` for an accepted send, the
documented codes otherwise (101 wrong keys, 99 unknown error, 104 balance,
124 RequestId used before), and calls each message's ``CallbackUrl`` back
with GET and the documented attributes when told to deliver receipts.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import requests

from simulators.base import Request
from simulators.base import Response
from simulators.base import Simulator

SMS_PATH = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"
ZNS_PATH = "/MainService.svc/json/SendZaloMessage_V4_post_json/"
PRICE_PER_PART = 770


@dataclass
class Sent:
    smsid: str
    request_id: str
    phone: str
    content: str
    callback_url: str | None
    unicode: bool
    zns: bool
    params: list | None = None


class EsmsSimulator(Simulator):
    def __init__(self, api_key: str = "esms-key", secret_key: str = "esms-secret") -> None:
        self.api_key, self.secret_key = api_key, secret_key
        self.cpid, self.mo_private_key = "CP1088", "17417a0d20114d36a902e49cad0e97f3"
        self.sent: list[Sent] = []
        self._pending: list[Sent] = []
        super().__init__()

    def handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path not in (SMS_PATH, ZNS_PATH):
            return Response(404, {"error": "not found"})
        body = request.json() or {}
        if body.get("ApiKey") != self.api_key or body.get("SecretKey") != self.secret_key:
            return Response(200, {"CodeResult": "101", "ErrorMessage": "Sai ApiKey/SecretKey"})
        outcome = self.next_outcome()
        if outcome == "http500":
            return Response(500, {"Message": "An error has occurred."})
        if outcome == "transient":
            return Response(200, {"CodeResult": "99", "ErrorMessage": "Loi khong xac dinh"})
        if outcome == "permanent":
            return Response(200, {"CodeResult": "104", "ErrorMessage": "Khong du so du"})
        if not re.fullmatch(r"0\d{9}", str(body.get("Phone", ""))):
            return Response(200, {"CodeResult": "105", "ErrorMessage": "Sai dinh dang"})
        request_id = str(body.get("RequestId") or "")
        if request_id and any(s.request_id == request_id for s in self.sent):
            return Response(200, {"CodeResult": "124", "ErrorMessage": "Trung RequestId"})
        sent = Sent(
            smsid=uuid.uuid4().hex[:31],
            request_id=request_id,
            phone=body["Phone"],
            content=body.get("Content", ""),
            callback_url=body.get("CallbackUrl"),
            unicode=body.get("IsUnicode") == "1",
            zns=request.path == ZNS_PATH,
            params=body.get("Params"),
        )
        self.sent.append(sent)
        self._pending.append(sent)
        return Response(200, {"CodeResult": "100", "CountRegenerate": 0, "SMSID": sent.smsid})

    def deliver_receipts(self, send_status: str = "5") -> list[int]:
        """Call back every accepted message once (5 = sent successfully, 4 = rejected)."""
        pending, self._pending = self._pending, []
        codes = []
        for sent in pending:
            if not sent.callback_url:
                continue
            params = {
                "SMSID": sent.smsid,
                "SendFailed": "0" if send_status == "5" else "1",
                "SendStatus": send_status,
                "SendSuccess": "1" if send_status == "5" else "0",
                "Totalprice": str(PRICE_PER_PART),
                "TotalReceiver": "1",
                "TotalSent": "1",
                "RequestId": sent.request_id,
                "TypeId": "25" if sent.zns else "2",
                "telcoid": "1",
                "phonenumber": sent.phone,
            }
            separator = "&" if "?" in sent.callback_url else "?"
            url = sent.callback_url + separator + urlencode(params)
            codes.append(requests.get(url, timeout=10).status_code)
        return codes

    def send_mo(
        self, url: str, sender: str, content: str, *, key: str | None = None, cpid: str = ""
    ) -> requests.Response:
        """A person texts the short code; eSMS forwards it to ``url`` by GET, signed."""
        cpid = cpid or self.cpid
        smsid = uuid.uuid4().hex[:24]
        received = time.strftime("%Y%m%d%H%M%S")
        joined = f"{cpid}{smsid}{content}{received}{key or self.mo_private_key}"
        params = {
            "sender": sender,
            "content": content,
            "serviceNumber": "8079",
            "keyword": content.split()[0] if content.split() else "",
            "sign": hashlib.md5(joined.encode()).hexdigest(),
            "cpid": cpid,
            "smsid": smsid,
            "receiverTime": received,
        }
        separator = "&" if "?" in url else "?"
        return requests.get(url + separator + urlencode(params), timeout=10)
