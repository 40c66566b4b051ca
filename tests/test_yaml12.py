"""fleet.yaml read as other YAML tools read it: flow-style ':' in values, anchors, tags, fix-it hints."""

from __future__ import annotations

import textwrap
import warnings

import pytest
from fleetgen import compose
from fleetgen.load import load_text
from fleetgen.render import karmada
from fleetgen.schema import validate

from tests.test_render_karmada import by_kind, docs_of, small_fleet, workload_yaml


def data(text: str):
    doc, findings = load_text(text, "fleet.yaml")
    assert doc is not None and not findings, findings
    return doc.data


def refusal(text: str):
    doc, findings = load_text(text, "fleet.yaml")
    assert doc is None
    (finding,) = findings
    assert finding.rule == "yaml-syntax"
    return finding


# ---------------------------------------------------------------- flow style (issue 10 §3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("repo: {url: https://git.example.com/x}\n", {"repo": {"url": "https://git.example.com/x"}}),
        ("c: {image: nginx:1.25}\n", {"c": {"image": "nginx:1.25"}}),
        ("pods: [fd00::/48]\n", {"pods": ["fd00::/48"]}),
        ("p: {roleARN: arn:aws:iam::123:role/x}\n", {"p": {"roleARN": "arn:aws:iam::123:role/x"}}),
        ("t: [a:b, {k: v:w}]\n", {"t": ["a:b", {"k": "v:w"}]}),
    ],
)
def test_colons_inside_flow_plain_scalars(text, expected):
    assert data(text) == expected


def test_yaml_spec_example_7_1_reused_anchor_names():
    """A later anchor of the same name overrides the earlier one (YAML 1.2 §7.1)."""
    text = (
        "First occurrence: &anchor Foo\nSecond occurrence: *anchor\n"
        "Override anchor: &anchor Bar\nReuse anchor: *anchor\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ReusedAnchorWarning on stderr either
        assert data(text) == {
            "First occurrence": "Foo",
            "Second occurrence": "Foo",
            "Override anchor": "Bar",
            "Reuse anchor": "Bar",
        }


def test_tabs_inside_a_block_scalar_are_content():
    assert data("script: |\n  if x; then\n  \techo y\n  fi\n") == {"script": "if x; then\n\techo y\nfi\n"}


# ---------------------------------------------------------------- tags


def test_standard_tags_are_honoured():
    text = (
        'a: !!str 0777\nb: !!str 1.30\nc: !!int "12"\nd: !!float 1\ne: !!bool true\n'
        "f: !!null ''\ng: ! 12\nh: !!str\ni: !!int 0x1F\n"
    )
    assert data(text) == {
        "a": "0777",
        "b": "1.30",
        "c": 12,
        "d": 1.0,
        "e": True,
        "f": None,
        "g": "12",
        "h": "",
        "i": 31,
    }
    assert type(data("d: !!float 1\n")["d"]) is float


def test_tagged_string_version_is_not_the_number_1_3():
    fleet_text = HEADER_WITH_VERSION.replace('kubernetesVersion: "1.30"', "kubernetesVersion: !!str 1.30")
    doc, findings = load_text(fleet_text, "fleet.yaml")
    assert not findings and not validate(doc)
    assert doc.data["defaults"]["kubernetesVersion"] == "1.30"
    untagged, _ = load_text(fleet_text.replace("!!str 1.30", "1.30"), "fleet.yaml")
    assert any("1.3" in f.message for f in validate(untagged))


def test_str_tag_in_an_override_value_renders_the_string():
    extra = textwrap.dedent("""\
        overrides:
          - clusters: {matchLabels: {name: b}}
            patches:
              - {op: replace, path: /spec/template/metadata/annotations/mode, value: !!str 0777}
        """)
    fleet = small_fleet(workload_yaml(extra))
    (op,) = by_kind(docs_of(karmada.render(fleet), "karmada/workloads/api.yaml"), "OverridePolicy")
    (rule,) = op["spec"]["overrideRules"]
    assert rule["overriders"]["plaintext"][0]["value"] == "0777"


@pytest.mark.parametrize(
    ("text", "line", "col", "what"),
    [
        ("a: !Ref x\n", 1, 4, "'!Ref' on a scalar"),
        ("a:\n  b: !foo [1]\n", 2, 6, "'!foo' on a list"),
        ("a: !!set {x}\n", 1, 4, "'!!set' on a mapping"),
        ("a: !!binary aGk=\n", 1, 4, "'!!binary' on a scalar"),
        ("!!omap\n- a: 1\n", 1, 1, "'!!omap' on a list"),
        ("!<tag:example.com:x> {a: 1}\n", 1, 1, "'tag:example.com:x' on a mapping"),
    ],
)
def test_other_tags_are_refused_on_every_node_kind_with_a_position(text, line, col, what):
    finding = refusal(text)
    assert (finding.line, finding.column) == (line, col)
    assert f"unsupported tag {what}" in finding.message


@pytest.mark.parametrize("text", ["a: !!int x\n", "a: !!float 1.2.3\n", "a: !!bool yes\n", "a: !!null 0\n"])
def test_a_value_that_does_not_fit_its_standard_tag_is_refused(text):
    assert "is not a valid !!" in refusal(text).message


# ---------------------------------------------------------------- fix-it hints


@pytest.mark.parametrize(
    ("text", "line", "col", "hint"),
    [
        (
            "a:\n  image: nginx: latest\n",
            2,
            15,
            'quote the value: a ": " inside a plain value starts a mapping; write image: "nginx: latest"',
        ),
        ("a:\n  b: 1\n   c: 2\n", 3, 5, "indented more than the key above it"),
        (
            "a:\n  b: 1\n c: 2\n",
            3,
            2,
            "this line starts at column 2, the block that starts at line 1 has its entries at column 1",
        ),
        ("a:\n\tb: 1\n", 2, 1, "replace the tab with spaces"),
        ('a: "abc\nb: 1\n', 3, 1, "close the quote opened at line 1, column 4"),
        ("a: [1, 2\nb: 1\n", 2, 2, "close the [ opened at line 1 with ']'"),
        ("a: @foo\n", 1, 4, "quote the value: '@' cannot start a plain value"),
        ("a: *foo\n", 1, 4, "refers to an &anchor; quote the value"),
        ('a: "x" y\n', 1, 8, "put the whole value inside the quotes"),
        ("a: 1\n---\nb: 2\n", 2, 1, "fleet.yaml holds one document"),
    ],
)
def test_common_mistakes_say_how_to_fix_them(text, line, col, hint):
    finding = refusal(text)
    assert (finding.line, finding.column) == (line, col), finding
    assert hint in finding.hint, finding


def test_hint_in_text_output(tmp_path):
    from click.testing import CliRunner
    from fleetgen.main import cli

    (tmp_path / "fleet.yaml").write_text("apiVersion: fleetgen/v1alpha1\nrepo:\n  url: https://x: y\n")
    result = CliRunner().invoke(cli, ["lint", str(tmp_path / "fleet.yaml")])
    assert result.exit_code == 1
    assert "fleet.yaml:3:17: error[yaml-syntax] mapping values are not allowed here" in result.output
    assert 'write url: "https://x: y"' in result.output


# ---------------------------------------------------------------- fast path and pure path agree


def test_fast_and_pure_parsers_build_the_same_data(example_text):
    """The example fleet through libyaml and through ruamel.yaml's pure parser: same data, same positions."""
    from fleetgen.construct import Builder, index

    built = []
    for parser in (compose._Fast, compose._Pure):
        root = parser(example_text).get_single_node()
        built.append((Builder("fleet.yaml").data(root), index(root)))
    assert built[0] == built[1]
    assert compose.trusted(example_text)


@pytest.mark.parametrize("text", ["a: ! 12\n", "a: &x:y 1\nb: *x:y\n", "a: >#c\n  x\n"])
def test_constructs_libyaml_misreads_take_the_pure_path(text):
    assert not compose.trusted(text)


HEADER_WITH_VERSION = """\
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: small
repo: {url: "https://github.com/example/cfg"}
hub: {name: hub}
network: {mesh: none}
defaults: {environment: production, region: eu-west-1, provider: {type: docker},
           kubernetesVersion: "1.30"}
clusters:
  - {name: a, server: "https://a.example.com", network: {pods: 10.0.0.0/16, services: 10.100.0.0/20}}
"""
