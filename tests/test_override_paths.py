"""JSON pointers walked through the vendored Kubernetes schemas (apps/v1 Deployment, v1 Service)."""

from __future__ import annotations

import pytest
from fleetgen.upstream.pointer import kind_schema, missing_at, tokens


@pytest.mark.parametrize(
    ("api_version", "kind", "pointer", "missing"),
    [
        ("v1", "Service", "/spec/template/spec/containers/0/image", "/spec/template"),
        ("v1", "Service", "/spec/replicas", "/spec/replicas"),
        ("v1", "Service", "/spec/ports/0/port", None),
        ("v1", "Service", "/spec/ports/-", None),
        ("v1", "Service", "/spec/ports/http", "/spec/ports/http"),  # an array takes an index or -
        ("v1", "Service", "/spec/type/x", "/spec/type/x"),  # a string has no members
        ("v1", "Service", "/metadata/annotations/example.com~1team", None),  # a map takes any key
        ("apps/v1", "Deployment", "/spec/template/spec/containers/0/resources/limits/memory", None),
        ("apps/v1", "Deployment", "/spec/ports", "/spec/ports"),
        ("apps/v1", "Deployment", "/spec/template/spec/containers/0/imag", "/spec/template/spec/containers/0/imag"),
    ],
)
def test_missing_prefix(api_version, kind, pointer, missing):
    assert missing_at(kind_schema(api_version, kind), pointer) == missing


def test_a_kind_without_a_vendored_schema_is_not_judged():
    assert kind_schema("example.com/v1", "Widget") is None


def test_tokens_unescape_as_rfc_6901_says():
    assert tokens("/a~1b/c~0d/~01") == ["a/b", "c~d", "~1"]
