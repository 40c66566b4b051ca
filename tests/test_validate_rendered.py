"""``fleetgen validate-rendered``: strict upstream schemas, CEL rules, Helm values, reporters and exit codes.

Expected values are worked out by hand from the vendored CRDs (quoted below) and from
k8s.io/apiserver/pkg/cel/library (ip.go, cidr.go), not from the validator itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleetgen.main import cli
from fleetgen.upstream import cel
from fleetgen.upstream.cel import Rules, is_cidr, parse_ip, with_defaults
from fleetgen.upstream.manifests import Validator, validate_tree
from fleetgen.upstream.store import Store, default_root

ROOT = Path(__file__).resolve().parents[1]

# cluster.x-k8s.io/v1beta2 MachineHealthCheck: spec.checks.unhealthyMachineConditions[].type carries
#   rule "!(self in ['Ready','Available','HealthCheckSucceeded','OwnerRemediated','ExternallyRemediated'])"
# and matches the JSON-schema pattern of a condition type, so "Ready" passes the schema and breaks the rule.
MHC = """\
apiVersion: cluster.x-k8s.io/v1beta2
kind: MachineHealthCheck
metadata:
  name: prod-unhealthy
  namespace: fleet
spec:
  clusterName: prod
  selector:
    matchLabels:
      pool: general
  checks:
    unhealthyMachineConditions:
      - type: Ready
        status: "False"
        timeoutSeconds: 300
"""
# GCPManagedCluster v1beta1: firewallRules[].sourceRanges carries "self.all(i, isIP(i) || isCIDR(i))".
GCP = """\
apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: GCPManagedCluster
metadata:
  name: gke
spec:
  project: p
  region: europe-west1
  network:
    firewall:
      firewallRules:
        - name: ok
          sourceRanges: ["10.0.0.0/8", "192.168.1.1", "2001:db8::/32"]
        - name: bad
          sourceRanges: ["10.0.0.0/8", "10.0.0.0/33"]
"""
NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: team-a
"""


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "rendered"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def as_json(result) -> list[dict]:
    return json.loads(result.output)["findings"]


# ------------------------------------------------------------------------------- CEL


def test_document_valid_by_schema_but_breaking_a_real_cel_rule_is_reported(tmp_path):
    store = Store()
    doc = __import__("yaml").safe_load(MHC)
    assert store.kind("cluster.x-k8s.io/v1beta2", "MachineHealthCheck").errors(doc) == []  # JSON schema: fine
    root = tree(tmp_path, {"hub/capi/prod.yaml": NAMESPACE + "---\n" + MHC})
    result = run("validate-rendered", str(root), "--format", "json")
    assert result.exit_code == 1
    (finding,) = as_json(result)
    assert finding["rule"] == "upstream-cel"
    assert finding["file"] == f"{root.as_posix()}/hub/capi/prod.yaml"
    # document 1 (0-based): the Namespace is lines 1-4, "---" line 5, so MHC's line 13 "      - type: Ready"
    # is the file's line 18, and the value starts in column 15
    assert (finding["line"], finding["column"]) == (18, 15)
    assert finding["path"] == "[1].spec.checks.unhealthyMachineConditions[0].type"
    assert finding["message"].startswith(
        "MachineHealthCheck/prod-unhealthy (document 1): type must not be one of: "
        "Ready, Available, HealthCheckSucceeded, OwnerRemediated, "
        "ExternallyRemediated (CEL rule: !(self in ['Ready',"
    )


def test_is_ip_and_is_cidr_rule_reports_only_the_bad_range(tmp_path):
    root = tree(tmp_path, {"hub/capi/gke.yaml": GCP})
    findings = as_json(run("validate-rendered", str(root), "--format", "json"))
    assert [(f["rule"], f["path"]) for f in findings] == [
        ("upstream-cel", "[0].spec.network.firewall.firewallRules[1].sourceRanges")
    ]
    assert "must be a valid IPv4/IPv6 address or CIDR/Prefix" in findings[0]["message"]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("2001:db8::abcd", True),  # ip.go's examples
        ("127.0.0.256", False),
        (":::1", False),
        ("::ffff:1.2.3.4", False),  # IPv4-mapped IPv6: refused by parseIPAddr
        ("fe80::1%eth0", False),  # zone: refused
        ("010.0.0.1", False),  # leading zero in an IPv4 octet: netip.ParseAddr refuses
        ("10.0.0.0/8", False),
    ],
)
def test_is_ip_follows_the_kubernetes_library(text, ok):
    assert (parse_ip(text) is not None) is ok


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("10.0.0.0/8", True),
        ("2001:db8::/32", True),
        ("0.0.0.0/0", True),
        ("10.0.0.1/8", True),  # netip.ParsePrefix keeps host bits
        ("10.0.0.0/33", False),
        ("2001:db8::/129", False),
        ("10.0.0.0/08", False),
        ("10.0.0.0/+8", False),  # Go: no leading zero, no sign
        ("::ffff:1.2.3.4/120", False),
        ("fe80::1%eth0/64", False),
        ("10.0.0.0", False),
        ("10.0.0.0/", False),
    ],
)
def test_is_cidr_follows_the_kubernetes_library(text, ok):
    assert is_cidr(text) is ok


def test_cel_size_counts_characters_as_kubernetes_does():
    program = Rules().program("size(self) == 3")
    import celpy

    assert program.evaluate({"self": celpy.json_to_cel("é€😀")})  # 3 code points, 9 UTF-8 bytes


def test_transition_rules_are_skipped_and_counted(tmp_path):
    schema_root = tmp_path / "schemas"
    (schema_root / "example.com").mkdir(parents=True)
    rules = [
        {"rule": "self == oldSelf", "message": "immutable"},
        {"rule": "self.size() <= 3", "message": "at most three characters"},
    ]
    schema = {
        "type": "object",
        "required": ["apiVersion", "kind"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": "example.com/v1"},
            "kind": {"const": "Widget"},
            "metadata": {"type": "object"},
            "spec": {"type": "string", "x-kubernetes-validations": rules},
        },
    }
    (schema_root / "example.com" / "widget_v1.json").write_text(json.dumps(schema))
    root = tree(tmp_path, {"w.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: abcd\n"})
    validator = Validator(Store(schema_root))
    result = validate_tree(root, "rendered", parallel=False, validator=validator)
    assert [f.message.split(" (CEL")[0] for f in result.findings] == ["Widget/w (document 0): at most three characters"]
    assert (result.cel.transition, result.cel.evaluated, result.cel.failed) == (1, 1, 1)


def test_a_rule_calling_an_unimplemented_function_is_a_warning_not_a_pass():
    failures = Rules().check({"x-kubernetes-validations": [{"rule": "self.isSemver()"}]}, "1.2.3")
    assert [(f.evaluated, f.message) for f in failures] == [
        (False, "rule not evaluated: it calls isSemver, which fleetgen does not implement")
    ]


def test_defaults_apply_before_rules():
    # has(self.mode) is true once the schema default fills the absent field, as the API server defaults first
    schema = {
        "type": "object",
        "properties": {"mode": {"type": "string", "default": "a"}},
        "x-kubernetes-validations": [{"rule": "has(self.mode) && self.mode == 'a'", "message": "m"}],
    }
    assert Rules().check(schema, {}) == []
    assert with_defaults(schema, {"mode": "b"}) == {"mode": "b"}


def test_every_vendored_rule_can_be_evaluated():
    engine, seen = Rules(), []

    def walk(node):
        if isinstance(node, dict):
            for entry in node.get("x-kubernetes-validations") or []:
                if isinstance(entry, dict):
                    seen.append(entry["rule"])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for path in Path(str(default_root())).rglob("*.json"):
        walk(json.loads(path.read_text()))
    assert len(set(seen)) >= 10  # PROVENANCE.md: the vendored CRDs carry a dozen distinct rules
    assert {rule: engine.program(rule) for rule in set(seen) if isinstance(engine.program(rule), str)} == {}
    assert not [r for r in seen if cel.OLD_SELF.search(r)]  # as PROVENANCE.md says: no transition rules


# --------------------------------------------------------------------- strict schemas


def test_unknown_field_fails_with_its_position(tmp_path):
    text = "# header\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  colour: red\n"
    root = tree(tmp_path, {"ns.yaml": text})
    findings = as_json(run("validate-rendered", str(root), "--format", "json"))
    assert [(f["rule"], f["line"], f["column"], f["path"]) for f in findings] == [
        ("upstream-schema", 5, 3, "[0].metadata")
    ]
    assert "'colour' was unexpected" in findings[0]["message"]


def test_unknown_kind_and_non_manifest_fail(tmp_path):
    root = tree(
        tmp_path,
        {
            "a.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
            "b.yml": "just: data\n",
            "README.md": "not checked\n",
            ".hidden.yaml": "x: 1\n",
        },
    )
    result = run("validate-rendered", str(root), "--format", "json")
    assert result.exit_code == 1
    assert [(f["file"].rsplit("/", 1)[1], f["rule"], f["line"]) for f in as_json(result)] == [
        ("a.yaml", "unknown-kind", 2),
        ("b.yml", "unknown-kind", 1),
    ]


def test_yaml_syntax_error_is_a_finding_not_a_traceback(tmp_path):
    root = tree(tmp_path, {"x.yaml": "apiVersion: v1\nkind: [\n"})
    findings = as_json(run("validate-rendered", str(root), "--format", "json"))
    assert [f["rule"] for f in findings] == ["yaml-syntax"]


def test_helm_values_are_validated_against_the_chart_schema(tmp_path):
    root = tree(
        tmp_path,
        {
            "clusters/a/cilium/values.yaml": "cluster:\n  name: a\n  id: 7\n",  # valid
            "clusters/b/cilium/values.yaml": "cluster:\n  name: b\n  id: seven\n",  # cluster.id: integer in the chart
            "clusters/c/cilium/values.yaml": "clustr:\n  name: c\n",  # misspelt key: Helm would ignore it silently
            "clusters/d/nginx/values.yaml": "replicas: 2\n",  # no vendored schema for this chart
        },
    )
    findings = as_json(run("validate-rendered", str(root), "--format", "json"))
    got = [(f["file"].split("/clusters/")[1], f["rule"], f["path"], f["line"]) for f in findings]
    assert got == [
        ("b/cilium/values.yaml", "upstream-schema", "[0].cluster.id", 3),
        ("c/cilium/values.yaml", "upstream-schema", "[0]", 1),
        ("d/nginx/values.yaml", "unknown-kind", "[0]", 1),
    ]
    assert "'seven' is not of type 'integer'" in findings[0]["message"]
    assert "'clustr' was unexpected" in findings[1]["message"]


# ------------------------------------------------------------------- command contract


def test_the_repos_own_rendered_tree_validates():
    result = run("validate-rendered", str(ROOT / "rendered"))
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings" in result.output and "CEL: " in result.output


def test_missing_directory_is_a_usage_error(tmp_path):
    result = run("validate-rendered", str(tmp_path / "nope"))
    assert result.exit_code == 2 and "no such directory" in result.output


def test_reporters(tmp_path):
    root = tree(tmp_path, {"hub/gke.yaml": GCP})
    text = run("validate-rendered", str(root))
    assert text.exit_code == 1
    assert (
        f"{root.as_posix()}/hub/gke.yaml:14:25: error[upstream-cel] GCPManagedCluster/gke (document 0): "
        "must be a valid IPv4/IPv6 address or CIDR/Prefix" in text.output
    )
    github = run("validate-rendered", str(root), "--format", "github")
    assert github.output.startswith(f"::error file={root.as_posix()}/hub/gke.yaml,line=14,col=25,title=upstream-cel::")
    sarif = json.loads(run("validate-rendered", str(root), "--format", "sarif").output)
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "upstream-cel"
    assert sarif["runs"][0]["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "upstream-cel"


def test_parallel_and_serial_agree(tmp_path):
    files = {f"c{i:03}/ns.yaml": NAMESPACE for i in range(6)}
    files["c002/ns.yaml"] = NAMESPACE + "  labels: {a: 1}\n"  # a label value must be a string
    files["hub/gke.yaml"] = GCP
    root = tree(tmp_path, files)
    serial = validate_tree(root, "r", parallel=False)
    forked = validate_tree(root, "r", parallel=True)
    assert serial.findings == forked.findings and len(serial.findings) == 2
    assert (serial.stats, serial.cel.evaluated) == (forked.stats, forked.cel.evaluated)


# ------------------------------------------------------------------------- check --schemas


def test_check_with_schemas_validates_the_render_in_memory():
    result = run("check", str(ROOT / "fleet.yaml"), "--schemas")
    assert result.exit_code == 0, result.output
    documents, values = _committed_counts(ROOT / "rendered")
    assert "up to date" in result.output
    assert f"validated {documents} documents and {values} Helm values files" in result.output


def _committed_counts(tree: Path) -> tuple[int, int]:
    """Documents and Helm values files of the committed tree, counted with PyYAML (not fleetgen)."""
    import yaml

    documents = values = 0
    for path in tree.rglob("*.yaml"):
        if path.name == "values.yaml":
            values += 1
        else:
            documents += sum(doc is not None for doc in yaml.safe_load_all(path.read_text()))
    return documents, values


def test_check_rendered_reports_like_validate_rendered(tmp_path):
    import yaml
    from fleetgen.produce import file_bytes
    from fleetgen.render import File
    from fleetgen.upstream.manifests import check_rendered

    files = [
        File("hub/capi/prod.yaml", (yaml.safe_load(NAMESPACE), yaml.safe_load(MHC))),
        File("clusters/b/cilium/values.yaml", ({"cluster": {"name": "b", "id": "seven"}},)),
        File("README.md", text="notes\n"),
    ]
    data = {f.path: file_bytes(f, "fleet.yaml") for f in files}
    in_memory = check_rendered(files, data, "rendered")
    root = tmp_path / "rendered"
    for path, body in data.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(body)
    from_disk = validate_tree(root, "rendered", parallel=False)
    assert in_memory.findings == from_disk.findings
    assert [(f.rule, f.file, f.line) for f in in_memory.findings] == [
        ("upstream-schema", "rendered/clusters/b/cilium/values.yaml", 4),  # header comment, cluster:, name:, id:
        ("upstream-cel", "rendered/hub/capi/prod.yaml", 19),
    ]  # header, Namespace (4 lines), ---, MHC's line 13


def test_values_json_has_no_type_for_are_findings_not_tracebacks(tmp_path):
    root = tree(
        tmp_path,
        {
            "a.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n"
            "  annotations: {a: !!binary aGVsbG8=}\n---\nkind: 3\napiVersion: v1\n"
        },
    )
    findings = as_json(run("validate-rendered", str(root), "--format", "json"))
    assert [(f["rule"], f["line"], f["path"]) for f in findings] == [
        ("upstream-schema", 5, "[0].metadata.annotations.a"),
        ("unknown-kind", 7, "[1]"),
    ]
    assert "b'hello' is not of type 'string'" in findings[0]["message"]
