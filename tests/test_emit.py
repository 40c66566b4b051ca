"""fleetgen.emit: output reads back identically under YAML 1.1 (PyYAML) and 1.2 (ruamel)."""

from __future__ import annotations

import io
import math
from collections import OrderedDict
from enum import Enum, IntEnum

import pytest
import yaml
from fleetgen.emit import dump, is_plain_safe, quote
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

RUAMEL_PURE = YAML(typ="safe", pure=True)
RUAMEL_C = YAML(typ="safe")


def typed(value):
    """``value`` with every type and the key order made part of equality."""
    if isinstance(value, dict):
        return ("map", [(typed(key), typed(item)) for key, item in value.items()])
    if isinstance(value, (list, tuple)):
        return ("seq", [typed(item) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def loaded_by_all(text: str) -> list[list]:
    """The documents of ``text`` as PyYAML, pure ruamel and ruamel over libyaml read them."""
    return [
        [typed(doc) for doc in yaml.safe_load_all(text)],
        [typed(doc) for doc in RUAMEL_PURE.load_all(text)],
        [typed(doc) for doc in RUAMEL_C.load_all(text)],
    ]


def assert_round_trips(documents: list) -> str:
    text = dump(documents)
    expected = [typed(doc) for doc in documents]
    for loaded in loaded_by_all(text):
        assert loaded == expected, text
    return text


# --- strategies: strings heavy in what YAML 1.1 / 1.2 / Go would misread -------------------

DANGEROUS = [
    "",
    " ",
    "  ",
    "~",
    "-",
    "--",
    "---",
    "...",
    "--- x",
    "... x",
    "-x",
    "- x",
    "?",
    "? x",
    ":",
    ": x",
    "x:",
    "x: y",
    "x #y",
    "x#y",
    "#x",
    "=",
    "<<",
    "!",
    "&a",
    "*a",
    "%x",
    "@x",
    "`x",
    "|",
    ">",
    "'",
    '"',
    "'x'",
    '"x"',
    ",",
    "[",
    "]",
    "{",
    "}",
    "[a]",
    "{a: b}",
    "a,b",
    "a[b]",
    "true",
    "True",
    "TRUE",
    "tRuE",
    "false",
    "yes",
    "Yes",
    "YES",
    "no",
    "No",
    "NO",
    "y",
    "Y",
    "n",
    "N",
    "on",
    "On",
    "ON",
    "off",
    "Off",
    "OFF",
    "null",
    "Null",
    "NULL",
    "nUlL",
    "0",
    "1",
    "-1",
    "+1",
    "007",
    "017",
    "08",
    "0o17",
    "0O17",
    "0x1F",
    "0X1f",
    "0b101",
    "0B1",
    "-0x1F",
    "+0o7",
    "1_000",
    "+_1",
    "-_",
    "_1",
    "1_",
    "1:20",
    "190:20:30",
    "1:20.5",
    "12:30",
    "1e3",
    "1E3",
    "1e+3",
    "-1.5e-3",
    "1.",
    ".5",
    "+.5",
    "-.5",
    "._",
    "._1",
    "1.5",
    "1_0.5",
    ".inf",
    "-.inf",
    "+.Inf",
    ".INF",
    ".nan",
    ".NaN",
    ".NAN",
    "nan",
    "inf",
    "2002-12-14",
    "2002-1-2",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5",
    "2001-12-15T02:59:43.1Z",
    "2024-01-15-release",
    "1.28.3",
    "10.0.0.1",
    "10.0.0.0/16",
    "v1.28.3",
    "nginx:1.25",
    "http://x:80/a#b",
    "a b",
    " a",
    "a ",
    "a  b",
    "\t",
    "a\tb",
    "a\nb",
    "a\n",
    "a\n\n",
    "\na",
    "\n",
    "\n\n",
    " a\nb",
    "a \nb",
    "a\nb ",
    "\r",
    "a\r\nb",
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\x85",
    "\xa0",
    "a\u2028b",
    "\u2029",
    "\ufeff",
    "\ufeffa",
    "\ufffe",
    "\U0001f600",
    "é",
    "日本",
    "\\",
    "a\\nb",
    "#!/bin/sh\necho hi\n",
    "x\n# c\n",
    "---\n",
    "a\n---\nb",
    "a\n...\nb",
    "key: |\n  x\n",
]
CHAOS = " -?:,[]{}#&*!|>'\"%@`=<~._+01289eExXoObBaTtYyNn\n\t\r\x85\u2028\ufeff\\"


timestamps = st.tuples(
    st.integers(1000, 9999),
    st.integers(0, 99),
    st.integers(0, 99),
    st.sampled_from(["", "T", "t", " ", "  "]),
    st.text(alphabet="0123456789:.Z +-", max_size=9),
).map(lambda parts: "{}-{}-{:02d}{}{}".format(*parts))


def recased(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda upper: "".join(c.upper() if u else c for c, u in zip(word, upper, strict=True))
    )


tricky_text = st.one_of(
    st.sampled_from(DANGEROUS),
    st.text(),
    st.text(alphabet=CHAOS, max_size=8),
    st.text(alphabet="-+0123456789_.:eExXoObB", min_size=1, max_size=7),
    timestamps,
    st.sampled_from(["yes", "no", "on", "off", "true", "false", "null", "y", "n"]).flatmap(recased),
    st.lists(st.text(alphabet="ab #:- \t", max_size=5), min_size=2, max_size=4).map("\n".join),
)
finite_floats = st.floats(allow_nan=False)
scalars = st.one_of(tricky_text, st.integers(), finite_floats, st.booleans(), st.none())
keys = st.one_of(tricky_text, st.integers(), st.booleans(), st.none(), finite_floats)
nodes = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(nodes, min_size=1, max_size=3))
def test_round_trips_under_yaml_1_1_and_1_2(documents):
    assert_round_trips(documents)


@settings(max_examples=1000, deadline=None)
@given(tricky_text)
def test_every_string_round_trips_as_value_key_and_item(text):
    assert_round_trips([{text: text, "list": [text, {text: [text]}]}, text])


@pytest.mark.parametrize("text", DANGEROUS)
def test_dangerous_scalar_round_trips(text):
    assert_round_trips([{"v": text, text: [text]}])


@pytest.mark.parametrize(
    "text",
    [
        "true",
        "On",
        "yes",
        "y",
        "N",
        "~",
        "null",
        "",
        "0o17",
        "0X1F",
        "017",
        "1_000",
        "+_1",
        "1:20",
        "1e3",
        ".5",
        ".inf",
        "-.NaN",
        "2002-1-2",
        "2001-12-14 21:59:43.10 -5",
        "<<",
        "=",
        "-",
        "---",
        "...",
        "a: b",
        "a #b",
        "a:",
        " a",
        "a ",
        "*a",
        "&a",
        "!a",
        "%a",
        "@a",
        "`a",
        "|a",
        ">a",
        "#a",
        "?a",
        ":a",
        ",a",
        "[a",
        "{a",
        "'a",
        '"a',
    ],
)
def test_misreadable_strings_are_quoted(text):
    assert not is_plain_safe(text)
    assert quote(text)[0] in "'\""


@pytest.mark.parametrize(
    "text",
    [
        "nginx:1.25",
        "10.0.0.1",
        "1.28.3",
        "v1.28.3",
        "--leader-elect",
        "-x",
        "a,b",
        "a#b",
        "http://x:80/a#b",
        "kube-system",
        "app.kubernetes.io/name",
        "2024-01-15-release",
        "0xZZ",
        "日本",
        "a b",
        "node-role.kubernetes.io/control-plane",
        "*.example.com".lstrip("*"),
    ],
)
def test_ordinary_strings_stay_plain(text):
    assert quote(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("on", "'on'"),
        ("it's", "it's"),
        (" it's", "' it''s'"),
        ("a\tb", '"a\\tb"'),
        ("\x00\x1b\x85\u2028\ufeff", '"\\0\\x1b\\x85\\u2028\\ufeff"'),
        ('"q"', "'\"q\"'"),
        ("a\\b\nc\t", '"a\\\\b\\nc\\t"'),
    ],
)
def test_quoting_style(text, expected):
    assert quote(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\nb", "v: |-\n  a\n  b\n"),
        ("a\nb\n", "v: |\n  a\n  b\n"),
        ("a\n\nb\n\n", "v: |+\n  a\n\n  b\n\n"),
        ("\na", "v: |-\n\n  a\n"),
        (" a\nb", 'v: " a\\nb"\n'),
        ("a \nb", 'v: "a \\nb"\n'),
        ("a\r\nb", 'v: "a\\r\\nb"\n'),
        ("\n\n", 'v: "\\n\\n"\n'),
    ],
)
def test_multi_line_strings(text, expected):
    assert dump([{"v": text}]) == expected
    assert_round_trips([{"v": text}, [text], text])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (0, "0"),
        (-7, "-7"),
        (10**30, str(10**30)),
        (1.5, "1.5"),
        (1e16, "1.0e+16"),
        (1e-05, "1.0e-05"),
        (-0.0, "-0.0"),
        (float("inf"), ".inf"),
        (float("-inf"), "-.inf"),
        ([], "[]"),
        ({}, "{}"),
    ],
)
def test_non_string_scalars_are_canonical(value, expected):
    assert dump([{"v": value}]) == f"v: {expected}\n"
    assert_round_trips([{"v": value}])


def test_nan_reads_back_as_nan():
    text = dump([{"v": float("nan")}])
    assert text == "v: .nan\n"
    assert all(loaded == [typed({"v": float("nan")})] for loaded in loaded_by_all(text))


def test_keys_longer_than_the_implicit_key_limit_are_explicit():
    long = "k" * 1500
    documents = [{long: {"a": 1}, "short": 1, long + "x": [1, {long: long}], long + "y": "v"}]
    text = assert_round_trips(documents)
    assert text.startswith(f"? {long}\n: a: 1\nshort: 1\n? {long}x\n: - 1\n")


def test_subclasses_emit_like_their_base():
    class Color(str, Enum):  # noqa: UP042 - str() of this kind of member is its name, not "red"
        RED = "red"

    class Level(IntEnum):
        HIGH = 3

    text = dump([OrderedDict(color=Color.RED, level=Level.HIGH, items=(1, Color.RED))])
    assert text == "color: red\nlevel: 3\nitems:\n  - 1\n  - red\n"


def test_unsupported_types_are_rejected():
    with pytest.raises(TypeError, match="set"):
        dump([{"v": {1}}])


def test_documents_are_separated_and_empty_input_is_empty():
    assert dump([]) == ""
    assert dump([{"a": 1}, {"b": 2}, "x", None]) == "a: 1\n---\nb: 2\n---\nx\n---\nnull\n"


@settings(max_examples=200, deadline=None)
@given(st.lists(nodes, min_size=1, max_size=3))
def test_output_is_deterministic_and_line_clean(documents):
    text = dump(documents)
    assert text == dump(documents)
    assert text.endswith("\n") and "\r" not in text
    assert not any(line.endswith((" ", "\t")) for line in text.split("\n"))


def test_key_order_is_insertion_order():
    text = dump([{"z": 1, "a": 2, "m": {"x": 1, "b": 2}}])
    assert text == "z: 1\na: 2\nm:\n  x: 1\n  b: 2\n"


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "thanos-querier",
        "namespace": "monitoring",
        "labels": {"app.kubernetes.io/name": "thanos-querier", "fleet.example.com/managed": "true"},
        "annotations": {},
    },
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "thanos-querier"}},
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "thanos-querier"}},
            "spec": {
                "containers": [
                    {
                        "name": "thanos",
                        "image": "quay.io/thanos/thanos:v0.35.1",
                        "args": ["query", "--http-address=0.0.0.0:10902", "--endpoint=dnssrv+_grpc._tcp.x"],
                        "ports": [{"name": "http", "containerPort": 10902}],
                        "env": [{"name": "DEBUG", "value": "no"}, {"name": "RATIO", "value": "0.5"}],
                        "resources": {"limits": {"cpu": 1.5, "memory": "512Mi"}},
                    }
                ],
                "tolerations": [],
                "nodeSelector": {"kubernetes.io/os": "linux"},
            },
        },
    },
}
DEPLOYMENT_TEXT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: thanos-querier
  namespace: monitoring
  labels:
    app.kubernetes.io/name: thanos-querier
    fleet.example.com/managed: 'true'
  annotations: {}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: thanos-querier
  template:
    metadata:
      labels:
        app.kubernetes.io/name: thanos-querier
    spec:
      containers:
        - name: thanos
          image: quay.io/thanos/thanos:v0.35.1
          args:
            - query
            - --http-address=0.0.0.0:10902
            - --endpoint=dnssrv+_grpc._tcp.x
          ports:
            - name: http
              containerPort: 10902
          env:
            - name: DEBUG
              value: 'no'
            - name: RATIO
              value: '0.5'
          resources:
            limits:
              cpu: 1.5
              memory: 512Mi
      tolerations: []
      nodeSelector:
        kubernetes.io/os: linux
"""


def test_golden_deployment():
    assert dump([DEPLOYMENT]) == DEPLOYMENT_TEXT
    assert_round_trips([DEPLOYMENT])


def test_layout_matches_ruamel_offset_indentation():
    """Where no quoting question arises, the text is exactly ruamel's
    ``indent(mapping=2, sequence=4, offset=2)`` output (the layout fleet.yaml uses)."""
    document = {
        "metadata": {"name": "a", "labels": {"k": "v"}},
        "spec": {
            "items": [{"name": "x", "args": ["--a", "b"], "env": [{"name": "NAME"}]}, "s", 3],
            "empty": [],
            "none": {},
            "nested": {"deeper": [{"list": [1, 2], "map": {"x": True}}]},
        },
    }
    writer = YAML()
    writer.indent(mapping=2, sequence=4, offset=2)
    stream = io.StringIO()
    writer.dump_all([document, document], stream)
    assert dump([document, document]) == stream.getvalue()


# What emit.py's classes leave out, spelt as what they allow (how emit.py first wrote them).
SAFE_SPELT = "!-~\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff"
EVERY_CHARACTER = "".join(map(chr, range(0x110000)))


@pytest.mark.parametrize(
    "allowed,left_out",
    [
        (SAFE_SPELT, "_UNSAFE"),
        (SAFE_SPELT + " ", "_UNSAFE_BUT_SPACE"),
        (SAFE_SPELT + " \n", "_UNSAFE_BUT_SPACE_AND_NEWLINE"),
    ],
)
def test_the_complement_classes_allow_exactly_the_safe_characters(allowed, left_out):
    import re

    from fleetgen import emit

    complement = getattr(emit, left_out)
    kept = re.sub(f"[^{allowed}]", "", EVERY_CHARACTER)
    assert re.sub(f"[{complement}]", "", EVERY_CHARACTER) == kept and len(kept) > 1_000_000


@given(st.text(alphabet=st.characters(codec=None), max_size=12))
@settings(max_examples=2000, suppress_health_check=[HealthCheck.too_slow])
def test_plain_shape_is_the_pattern_spelt_with_the_safe_characters(text):
    import re

    from fleetgen import emit

    indicators = "-?:,\\[\\]{}#&*!|>'\"%@`"
    spelt = f"(?:(?![{indicators}])[{SAFE_SPELT}]|-(?=[{SAFE_SPELT}]))(?:[{SAFE_SPELT} ]*(?![:])[{SAFE_SPELT}])?"
    assert (re.fullmatch(spelt, text) is None) == (emit._PLAIN_SHAPE.fullmatch(text) is None)
