"""POST /api/v1/members/imports: a CSV imported by a job, its progress and refused rows."""

from __future__ import annotations

import io

CSV = (
    "sdt,ho_ten,diem\n0912345678,Nguyễn Văn A,100\nnot a phone,Bad Row,5\n0987654321,Trần Thị B,\n"
)


def upload(api, body: bytes, name: str = "members.csv", **form):
    return api.client.post(
        "/api/v1/members/imports",
        headers=api.merchant.headers,
        data={"file": (io.BytesIO(body), name), **form},
        content_type="multipart/form-data",
    )


def test_an_upload_is_imported_and_reports_its_counts(api):
    response = upload(api, CSV.encode())
    assert response.status_code == 202, response.json
    started = response.json
    assert started["status"] == "done"  # no runner in tests: the job ran at once
    followed = api.get(f"/api/v1/members/imports/{started['id']}").json
    assert followed["counts"]["created"] == 2
    assert followed["counts"]["rejected"] == 1
    assert followed["progress"] == {"done": 3, "total": 3}
    assert followed["has_errors"] is True
    assert api.get("/api/v1/members?q=nguyen").json["data"][0]["name"] == "Nguyễn Văn A"


def test_the_error_file_names_the_refused_line_and_reason(api):
    started = upload(api, CSV.encode()).json
    errors = api.get(f"/api/v1/members/imports/{started['id']}/errors")
    assert errors.status_code == 200
    assert errors.mimetype == "text/csv"
    lines = errors.get_data(as_text=True).splitlines()
    assert lines[0].startswith("line,reason")
    assert lines[1].startswith("3,") and "Bad Row" in lines[1]


def test_an_import_without_refused_rows_has_no_error_file(api):
    started = upload(api, b"phone,name\n0912345678,An\n").json
    assert started["has_errors"] is False
    missing = api.get(f"/api/v1/members/imports/{started['id']}/errors")
    assert missing.status_code == 404
    assert missing.json["error"]["code"] == "no_import_errors"


def test_a_file_that_is_not_a_members_file_is_refused_before_anything_is_written(api):
    response = upload(api, b"colour,size\nred,M\n")
    assert response.status_code == 400
    assert "error" in response.json
    assert api.get("/api/v1/members").json["data"] == []


def test_a_file_in_another_encoding_is_refused_with_the_likely_one(api):
    response = upload(api, b"sdt,ho_ten\r\n" + "0987654321,Đăng\r\n".encode("cp1258"))
    assert response.status_code == 400
    assert response.json["error"]["code"] == "import_encoding"


def test_a_missing_file_answers_422(api):
    response = api.client.post(
        "/api/v1/members/imports",
        headers=api.merchant.headers,
        data={"encoding": "utf-8"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422


def test_a_file_larger_than_a_json_body_is_taken(api, app, hub):
    # The body limit lowered from 1 MiB to 64 KiB: the same rule, a file of 4,000 members.
    app.config["MAX_CONTENT_LENGTH"] = hub.config["HUB_MAX_BODY_BYTES"] = 64 * 1024
    rows = "".join(f"09{n:08d},Khách {n}\n" for n in range(4_000))
    body = ("sdt,ho_ten\n" + rows).encode()
    assert len(body) > hub.config["HUB_MAX_BODY_BYTES"]
    too_big = api.post("/api/v1/members", json={"name": "x" * len(body), "phone": "0912345678"})
    assert too_big.status_code == 413
    response = upload(api, body)
    assert response.status_code == 202, response.json
    assert response.json["counts"]["created"] == 4_000


def test_a_file_over_the_import_limit_answers_413(api, hub):
    hub.config["HUB_MAX_IMPORT_BYTES"] = 100
    response = upload(api, CSV.encode() * 10)
    assert response.status_code == 413


def test_another_merchant_never_reaches_an_import(api, other_api):
    started = upload(api, CSV.encode()).json
    for path in (
        f"/api/v1/members/imports/{started['id']}",
        f"/api/v1/members/imports/{started['id']}/errors",
    ):
        response = other_api.get(path)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "import_not_found"


def test_an_id_that_is_not_an_import_answers_404(api):
    for bad in ("..%2F..%2Fsecret_key", "0" * 31, "ABC", "x" * 40):
        assert api.get(f"/api/v1/members/imports/{bad}").status_code == 404


def test_an_import_that_stops_unexpectedly_is_marked_failed_and_its_job_fails(api):
    import pytest

    from hub.importer import uploads

    hub = api.client.application.extensions["hub"]
    kept = uploads.save_upload(hub, api.merchant.id, io.BytesIO(CSV.encode()), "m.csv")
    (uploads.folder(hub, api.merchant.id) / f"{kept.id}.csv").unlink()  # gone from the disk
    with hub.app.app_context(), pytest.raises(OSError):
        uploads.run_import(api.merchant.id, kept.id)
    followed = api.get(f"/api/v1/members/imports/{kept.id}").json
    assert followed["status"] == "failed"
    assert "unexpectedly" in followed["problem"] and "/" not in followed["problem"]
