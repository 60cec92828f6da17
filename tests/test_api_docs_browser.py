"""The API reference page in Chromium: grouped, searchable, copyable, readable on a phone."""

from __future__ import annotations

import pytest
from browser_support import screenshot
from browser_support import viewport

WIDE = {"width": 1280, "height": 800}
PHONE = viewport("phone")


@pytest.fixture
def open_docs(browser, hub_server):
    contexts = []

    def open_at(size):
        context = browser.new_context(
            viewport=size, permissions=["clipboard-read", "clipboard-write"]
        )
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{hub_server.base_url}/api/v1/docs")
        return page

    yield open_at
    for context in contexts:
        context.close()


def visible_paths(page):
    return page.eval_on_selector_all(
        "article.op:not([hidden]) h3 code", "nodes => nodes.map(n => n.textContent)"
    )


def test_the_reference_is_grouped_with_a_side_navigation(open_docs):
    page = open_docs(WIDE)
    groups = page.eval_on_selector_all(".toc h2", "nodes => nodes.map(n => n.textContent)")
    assert groups[:4] == ["Merchant", "Imports", "Members", "Orders"]
    page.click(".toc a[href='#post-api-v1-members']")
    assert page.locator("#post-api-v1-members").is_visible()
    assert page.locator("#post-api-v1-members pre").first.inner_text().startswith("{")
    screenshot(page, "api-docs-wide")
    page.click(".toc a[href='#post-api-v1-webhook-endpoints']")
    callbacks = page.locator("#post-api-v1-webhook-endpoints h4", has_text="Webhooks it sends")
    callbacks.scroll_into_view_if_needed()
    assert callbacks.is_visible()
    screenshot(page, "api-docs-webhook-callbacks")
    assert {"Widget", "Counter (POS)", "Webhook intake"} <= set(groups)
    page.click(".toc a[href='#tag-counter-pos']")
    sale = page.locator("#post-pos-v1-sales pre", has_text="Bearer $POS_KEY")
    sale.scroll_into_view_if_needed()
    assert sale.is_visible()
    screenshot(page, "api-docs-counter")


def test_search_keeps_only_the_operations_that_match(open_docs):
    page = open_docs(WIDE)
    everything = len(visible_paths(page))
    page.fill("#search", "voucher post")
    paths = visible_paths(page)
    assert "/api/v1/vouchers/use" in paths and len(paths) < everything / 10
    texts = page.eval_on_selector_all(
        "article.op:not([hidden])", "nodes => nodes.map(n => n.dataset.search)"
    )
    assert all("voucher" in text and "post" in text for text in texts)
    screenshot(page, "api-docs-search")
    page.fill("#search", "no such operation anywhere")
    assert visible_paths(page) == []
    assert page.locator("#no-match").is_visible()


def test_copy_puts_the_curl_line_on_the_clipboard(open_docs):
    page = open_docs(WIDE)
    button = page.locator("#get-api-v1-members button.copy")
    button.click()
    page.wait_for_function("b => b.textContent === 'Copied'", arg=button.element_handle())
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("curl -X GET 'http://127.0.0.1:")
    assert "Authorization: Bearer $HUB_API_KEY" in copied


def test_on_a_phone_nothing_overflows_and_the_sections_fold_away(open_docs):
    page = open_docs(PHONE)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert not page.locator(".toc").is_visible()
    screenshot(page, "api-docs-phone")
    page.click(".menu-toggle")
    assert page.locator(".toc").is_visible()
    screenshot(page, "api-docs-phone-menu")
    page.click(".toc a[href='#post-api-v1-members-member-id-merge']")
    screenshot(page, "api-docs-phone-operation")
