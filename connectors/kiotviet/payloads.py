"""Notification payloads shaped as KiotViet's Public API guide (v1.4) lists their fields.

Values are invented; the field names, nesting and types are the guide's. Used
by the simulator's callers (tests, a demo) to send ``invoice.update``,
``order.update`` and ``customer.update`` notifications.
"""

from __future__ import annotations

from typing import Any


def invoice(
    invoice_id: int = 12345678,
    *,
    code: str | None = None,
    customer_id: int | None = 555,
    total: int | float = 350000,
    discount: int | float = 0,
    status: int = 1,
    purchase_date: str = "2026-11-01T10:15:00",
    modified_date: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One ``invoice.update`` item (status 1 Hoàn thành, 2 Đã hủy, 3 Đang xử lý)."""
    status_text = {1: "Hoàn thành", 2: "Đã hủy", 3: "Đang xử lý", 5: "Không giao được"}
    lines = details or [
        {
            "ProductId": 1,
            "ProductCode": "SP001",
            "ProductName": "Cà phê sữa đá",
            "Quantity": 2,
            "Price": total / 2 + discount / 2,
            "Discount": 0,
            "DiscountRatio": 0,
        }
    ]
    return {
        "Id": invoice_id,
        "Code": code or f"HD{invoice_id % 1000000:06d}",
        "PurchaseDate": purchase_date,
        "BranchId": 1,
        "BranchName": "Chi nhánh trung tâm",
        "SoldById": 99,
        "SoldByName": "admin",
        "CustomerId": customer_id,
        "CustomerCode": f"KH{customer_id:06d}" if customer_id else None,
        "CustomerName": "Nguyễn Văn A" if customer_id else "Khách lẻ",
        "Total": total,
        "TotalPayment": total if status == 1 else 0,
        "Discount": discount,
        "DiscountRatio": 0,
        "Status": status,
        "StatusValue": status_text.get(status, ""),
        "Description": "",
        "UsingCod": False,
        "ModifiedDate": modified_date or purchase_date.replace("10:15:00", "10:15:05"),
        "InvoiceDetails": lines,
        "Payments": [_cash_payment(invoice_id, total, purchase_date)],
    }


def _cash_payment(invoice_id: int, total: int | float, date: str) -> dict[str, Any]:
    return {
        "Id": 1,
        "Code": f"TT{invoice_id % 1000000:06d}",
        "Amount": total,
        "AccountId": None,
        "BankAccount": None,
        "Description": "",
        "Method": "Cash",
        "Status": 0,
        "StatusValue": "Đã thanh toán",
        "TransDate": date,
    }


def order(
    order_id: int = 7001,
    *,
    customer_id: int | None = 555,
    total: int | float = 200000,
    status: int = 1,
    purchase_date: str = "2026-11-01T09:00:00",
) -> dict[str, Any]:
    """One ``order.update`` item (đặt hàng; status 1 Phiếu tạm ... 4 Đã hủy)."""
    status_text = {
        1: "Phiếu tạm",
        2: "Đang giao hàng",
        3: "Hoàn thành",
        4: "Đã hủy",
        5: "Đã xác nhận",
    }
    return {
        "Id": order_id,
        "Code": f"DH{order_id:06d}",
        "PurchaseDate": purchase_date,
        "BranchId": 1,
        "BranchName": "Chi nhánh trung tâm",
        "CustomerId": customer_id,
        "CustomerName": "Nguyễn Văn A",
        "Total": total,
        "TotalPayment": 0,
        "Discount": 0,
        "Status": status,
        "StatusValue": status_text.get(status, ""),
        "ModifiedDate": purchase_date,
        "OrderDetails": [
            {"ProductId": 2, "ProductCode": "SP002", "ProductName": "Bánh mì", "Quantity": 4,
             "Price": total / 4, "Discount": 0}
        ],
    }  # fmt: skip


def customer(
    customer_id: int = 555,
    *,
    phone: str | None = "0912345678",
    name: str = "Nguyễn Văn A",
    email: str | None = None,
    birth_date: str | None = "1990-05-20T00:00:00",
    gender: bool | None = True,
) -> dict[str, Any]:
    """One ``customer.update`` item."""
    return {
        "Id": customer_id,
        "Code": f"KH{customer_id:06d}",
        "Name": name,
        "Gender": gender,
        "BirthDate": birth_date,
        "ContactNumber": phone,
        "Address": "12 Lê Lợi",
        "LocationName": "Hồ Chí Minh - Quận 1",
        "WardName": "Phường Bến Nghé",
        "Email": email,
        "ModifiedDate": "2026-11-01T08:00:00.1234567",
        "Type": 0,
        "Organization": None,
        "TaxCode": None,
        "Comments": None,
    }
