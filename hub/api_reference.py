"""The API reference page's contents, drawn from the OpenAPI document.

Operations grouped by tag, in the document's tag order; for each, its
parameters, an example body and example answers made from the schemas (or the
document's own examples), and a ``curl`` line to copy. Descriptions are
Markdown of a small kind (inline code, bold, links, paragraphs), rendered here
after escaping, so the page needs no script from elsewhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from markupsafe import Markup
from markupsafe import escape

METHODS = ("get", "post", "put", "patch", "delete")
#: Example values by format, then by type, for schemas that give none.
FORMAT_EXAMPLES = {
    "date-time": "2026-03-10T03:00:00+00:00",
    "date": "1992-03-12",
    "email": "lan@example.vn",
    "uri": "https://shop.example.vn/",
    "url": "https://shop.example.vn/",
    "decimal": "250000",
}
TYPE_EXAMPLES = {"string": "string", "integer": 1, "number": 250000, "boolean": True}
#: Example values by field name, for string fields that give none.
NAME_EXAMPLES = {
    "phone": "+84912345678",
    "email": "lan@example.vn",
    "name": "Nguyễn Thị Lan",
    "currency": "VND",
    "locale": "vi",
    "code": "HM7Q2X9KRT4B",
    "province": "Hà Nội",
    "timezone": "Asia/Ho_Chi_Minh",
}
_INLINE = re.compile(r"``([^`]+)``|`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)")


@dataclass
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    summary_html: Markup
    description: Markup
    parameters: list[dict[str, Any]]
    body_schema: str | None
    body_example: str | None
    responses: list[dict[str, Any]]
    curl: str
    callbacks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Group:
    name: str
    anchor: str
    description: Markup

    @property
    def title(self) -> str:
        """The tag as people read it: ``member_tiers`` is "Member tiers"."""
        words = self.name.replace("_", " ")
        return words[:1].upper() + words[1:]

    operations: list[Operation] = field(default_factory=list)


def markdown(text: str | None) -> Markup:
    """Render the document's small Markdown: paragraphs, `code` (and RST's ``code``),
    **bold**, [links](url) to this hub or over https."""
    if not text:
        return Markup("")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", str(text)) if p.strip()]
    return Markup("").join(Markup("<p>{}</p>").format(_inline(p)) for p in paragraphs)


def _inline(text: str) -> Markup:
    out = Markup("")
    position = 0
    for match in _INLINE.finditer(text):
        out += escape(text[position : match.start()])
        literal, code, bold, label, url = match.groups()
        code = literal if literal is not None else code
        if code is not None:
            out += Markup("<code>{}</code>").format(code)
        elif bold is not None:
            out += Markup("<strong>{}</strong>").format(bold)
        elif url.startswith(("/", "#", "https://")):
            out += Markup('<a href="{}">{}</a>').format(url, label)
        else:
            out += escape(label)
        position = match.end()
    return out + escape(text[position:])


def example_of(
    spec: dict[str, Any], schema: dict[str, Any] | None, depth: int = 0, name: str = ""
) -> Any:
    """An example value for ``schema``: its own example, else one made from its shape."""
    if not schema or depth > 8:
        return None
    if "$ref" in schema:
        return example_of(spec, _resolve(spec, schema["$ref"]), depth, name)
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return schema["examples"][0]
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example_of(spec, part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "array":
        item = example_of(spec, schema.get("items"), depth + 1)
        return [] if item is None else [item]
    if kind == "object" or "properties" in schema:
        return {
            key: example_of(spec, prop, depth + 1, key)
            for key, prop in (schema.get("properties") or {}).items()
        }
    if schema.get("format") in FORMAT_EXAMPLES:
        return FORMAT_EXAMPLES[schema["format"]]
    if kind == "string" and name in NAME_EXAMPLES:
        return NAME_EXAMPLES[name]
    return TYPE_EXAMPLES.get(kind)


def _resolve(spec: dict[str, Any], ref: Any) -> dict[str, Any]:
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return {}
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def _media_example(spec: dict[str, Any], content: dict[str, Any]) -> tuple[str | None, Any]:
    media = content.get("application/json") or next(iter(content.values()), {})
    schema = media.get("schema")
    name = None
    if isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
    if "example" in media:
        return name, media["example"]
    if media.get("examples"):
        first = next(iter(media["examples"].values()))
        return name, first.get("value")
    return name, example_of(spec, schema)


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _curl(method: str, path: str, body: Any, base_url: str, key: str | None) -> str:
    url = base_url.rstrip("/") + re.sub(r"\{(\w+)\}", r"<\1>", path)
    parts = [f"curl -X {method.upper()} '{url}'"]
    if key:
        parts.append(f"-H 'Authorization: Bearer ${key}'")
    if body is not None:
        parts.append("-H 'Content-Type: application/json'")
        parts.append("-d '" + json.dumps(body, ensure_ascii=False).replace("'", "'\\''") + "'")
    return " \\\n  ".join(parts)


def _parameters(spec: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for parameter in operation.get("parameters", ()):
        if "$ref" in parameter:
            parameter = _resolve(spec, parameter["$ref"])
        rows.append(
            {
                "name": parameter.get("name", ""),
                "in": parameter.get("in", ""),
                "required": bool(parameter.get("required")),
                "description": markdown(parameter.get("description")),
            }
        )
    return rows


def _responses(spec: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for status, response in operation.get("responses", {}).items():
        if isinstance(response, str):
            response = spec.get("components", {}).get("responses", {}).get(response, {})
        elif "$ref" in response:
            response = _resolve(spec, response["$ref"])
        name, example = _media_example(spec, response.get("content") or {})
        rows.append(
            {
                "status": str(status),
                "description": markdown(response.get("description")),
                "schema": name,
                "example": _pretty(example) if example is not None else None,
            }
        )
    return rows


def _operation(spec: dict[str, Any], method: str, path: str, op: dict, base: str) -> Operation:
    body_name, body = None, None
    if "requestBody" in op:
        body_name, body = _media_example(spec, op["requestBody"].get("content") or {})
    return Operation(
        method=method.upper(),
        path=path,
        anchor=op.get("operationId") or re.sub(r"[^a-z0-9]+", "-", f"{method}{path}".lower()),
        summary=op.get("summary") or "",
        summary_html=_inline(op.get("summary") or ""),
        description=markdown(op.get("description")),
        parameters=_parameters(spec, op),
        body_schema=body_name,
        body_example=_pretty(body) if body is not None else None,
        responses=_responses(spec, op),
        curl=_curl(method, path, body, base, _key_for(path, op)),
        callbacks=_callbacks(spec, op),
    )


def _key_for(path: str, op: dict[str, Any]) -> str | None:
    """The variable a curl line sends as its bearer key: none for an open operation."""
    if op.get("security") == []:
        return None
    return "POS_KEY" if path.startswith("/pos/") else "HUB_API_KEY"


def _callbacks(spec: dict[str, Any], op: dict[str, Any]) -> list[dict[str, Any]]:
    """The requests the hub makes to a URL the operation took (OpenAPI callbacks)."""
    rows = []
    for name, expressions in (op.get("callbacks") or {}).items():
        for target, item in expressions.items():
            for method in METHODS:
                if method not in item:
                    continue
                sent = item[method]
                _, example = _media_example(
                    spec, (sent.get("requestBody") or {}).get("content") or {}
                )
                rows.append(
                    {
                        "name": name,
                        "method": method.upper(),
                        "target": target,
                        "summary": sent.get("summary") or "",
                        "description": markdown(sent.get("description")),
                        "headers": _parameters(spec, sent),
                        "example": _pretty(example) if example is not None else None,
                    }
                )
    return rows


def reference(spec: dict[str, Any], base_url: str) -> list[Group]:
    """The document's operations by tag, in the order of its ``tags``; untagged ones last.

    The document's ``webhooks`` (requests the hub makes) are listed in their tag's group
    like operations, by name, without a ``curl`` line.
    """
    groups: dict[str, Group] = {}
    for tag in spec.get("tags", ()):
        about = tag.get("description") or ""
        if about.strip().lower() == tag["name"].replace("_", " ").lower():
            about = ""  # the description only repeats the name
        groups[tag["name"]] = Group(tag["name"], _anchor(tag["name"]), markdown(about))
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            tag = (op.get("tags") or ["Other"])[0]
            group = groups.setdefault(tag, Group(tag, _anchor(tag), Markup("")))
            group.operations.append(_operation(spec, method, path, op, base_url))
    for name, item in spec.get("webhooks", {}).items():
        for method in METHODS:
            if method in item:
                op = item[method]
                tag = (op.get("tags") or ["Webhooks"])[0]
                group = groups.setdefault(tag, Group(tag, _anchor(tag), Markup("")))
                sent = _operation(spec, method, name, op, base_url)
                sent.curl = ""  # the hub makes this request; there is nothing to copy
                group.operations.append(sent)
    return [group for group in groups.values() if group.operations]


def _anchor(name: str) -> str:
    return "tag-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
