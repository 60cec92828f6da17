"""The console's Import page: upload, preview and mapping, the background import, refused rows."""

from __future__ import annotations

import io
import re

import pytest
from console_support import csrf
from console_support import make_staff
from console_support import sign_in

CSV = "sdt,ho_ten,diem\n0912345678,Nguyễn Văn A,100\nnot a phone,Bad Row,5\n"


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


def upload(client, body: bytes, name: str = "khach.csv", token: str | None = None):
    data = {"file": (io.BytesIO(body), name), "encoding": "utf-8"}
    data["csrf_token"] = token if token is not None else csrf(client, "/console/members/import")
    return client.post("/console/members/import", data=data, content_type="multipart/form-data")


def test_the_page_lists_the_columns_and_their_vietnamese_headers(client, manager):
    page = client.get("/console/members/import").get_data(as_text=True)
    assert "sdt, so_dien_thoai" in page and "ho_ten" in page
    assert 'enctype="multipart/form-data"' in page


def test_an_upload_shows_the_mapping_and_first_rows_and_imports_nothing_yet(client, manager, api):
    response = upload(client, CSV.encode())
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Nguyễn Văn A" in page
    assert re.search(r"<td>sdt</td><td><code>phone</code>", page)
    assert re.search(r"<td>diem</td><td><code>opening_points</code>", page)
    assert api.get("/api/v1/members").json["data"] == []


def test_starting_the_import_writes_the_members_and_offers_the_refused_rows(client, manager, api):
    status_url = upload(client, CSV.encode()).location
    import_id = status_url.rsplit("/", 1)[1]
    started = client.post(
        f"/console/members/import/{import_id}/start", data={"csrf_token": csrf(client)}
    )
    assert started.status_code == 302
    page = client.get(status_url).get_data(as_text=True)
    assert f"/console/members/import/{import_id}/errors" in page
    assert api.get("/api/v1/members?q=nguyen").json["data"][0]["name"] == "Nguyễn Văn A"
    errors = client.get(f"/console/members/import/{import_id}/errors")
    assert errors.mimetype == "text/csv" and "Bad Row" in errors.get_data(as_text=True)
    same = api.get(f"/api/v1/members/imports/{import_id}").json
    assert same["counts"]["created"] == 1 and same["counts"]["rejected"] == 1


def test_an_import_cannot_be_started_twice(client, manager):
    import_id = upload(client, CSV.encode()).location.rsplit("/", 1)[1]
    path = f"/console/members/import/{import_id}/start"
    assert client.post(path, data={"csrf_token": csrf(client)}).status_code == 302
    again = client.post(path, data={"csrf_token": csrf(client)})
    assert again.status_code == 409


def test_the_progress_fragment_stops_polling_once_done(client, manager):
    import_id = upload(client, CSV.encode()).location.rsplit("/", 1)[1]
    client.post(f"/console/members/import/{import_id}/start", data={"csrf_token": csrf(client)})
    fragment = client.get(f"/console/members/import/{import_id}/progress")
    assert fragment.status_code == 200
    assert "hx-trigger" not in fragment.get_data(as_text=True)


def test_a_file_that_is_not_a_members_file_says_why(client, manager):
    response = upload(client, b"colour,size\nred,M\n")
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)


def test_no_file_chosen_says_so(client, manager):
    response = client.post(
        "/console/members/import",
        data={"csrf_token": csrf(client, "/console/members/import")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422


def test_an_upload_without_its_csrf_token_is_refused(client, manager, api):
    assert upload(client, CSV.encode(), token="").status_code == 400
    assert api.get("/api/v1/members").json["data"] == []


@pytest.mark.parametrize("payload", XSS)
def test_names_in_the_file_are_escaped_in_the_preview(client, manager, payload):
    body = f"sdt,ho_ten\n0912345678,{quoted(payload)}\n".encode()
    location = upload(client, body).location
    page = client.get(location).get_data(as_text=True)
    assert payload not in page
    assert "&lt;" in page or "&#34;&gt;" in page


@pytest.mark.parametrize("payload", XSS)
def test_an_unknown_header_is_escaped_in_the_problem(client, manager, payload):
    body = f"sdt,{quoted(payload)}\n0912345678,x\n".encode()
    response = upload(client, body)
    assert response.status_code == 400
    assert payload not in response.get_data(as_text=True)


def test_a_cashier_cannot_open_the_import_page(client, hub, merchant):
    cashier = make_staff(hub, merchant.id, "cashier")
    sign_in(client, cashier.email)
    assert client.get("/console/members/import").status_code == 403


def test_anonymous_goes_to_sign_in(client):
    assert client.get("/console/members/import").status_code == 302


def test_another_merchants_import_is_not_found(app, client, hub, manager, other_merchant):
    import_id = upload(client, CSV.encode()).location.rsplit("/", 1)[1]
    stranger = make_staff(hub, other_merchant.id, "owner")
    other = app.test_client()
    sign_in(other, stranger.email)
    for path in ("", "/progress", "/errors"):
        assert other.get(f"/console/members/import/{import_id}{path}").status_code == 404
    token = csrf(other)
    assert (
        other.post(f"/console/members/import/{import_id}/start", data={"csrf_token": token})
    ).status_code == 404
