"""Credential detection: every detector fires on a fake credential, never on the fleet's look-alikes."""

from __future__ import annotations

import base64
import json
import random

import pytest
import yaml
from fleetgen.load import load_text
from fleetgen.schema import validate
from fleetgen.secrets import Hit, LineScan, mask, scan_data, scan_text, scan_text_since
from hypothesis import given, settings
from hypothesis import strategies as st


def _b64url(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


FAKE_JWT = f"{_b64url({'alg': 'HS256', 'typ': 'JWT'})}.{_b64url({'sub': 'fleetgen-test'})}.ZmFrZS1zaWduYXR1cmU"
FAKE_PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAfakefakefake\n-----END RSA PRIVATE KEY-----\n"

# (value, kind): fake but pattern-valid credentials, found wherever they stand.
SHAPED = [
    ("AKIAIOSFODNN7EXAMPLE", "AWS access key"),
    ("ASIA" + "Q" * 16, "AWS access key"),
    (FAKE_PEM, "PEM private key"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", "PEM private key"),
    ("ghp_" + "a1B2" * 9, "GitHub token"),
    ("github_pat_" + "A" * 22 + "_" + "b" * 59, "GitHub token"),
    ("glpat-" + "x1Y2z3" * 4, "GitLab token"),
    ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "Slack token"),
    ("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", "Slack token"),
    (FAKE_JWT, "JWT"),
    ("https://user:hunter2@example.com", "password in URL"),
    (
        "https://github.com/example/platform-config?x=https://ci:s3cr3t-pass@git.example.com/repo",
        "password in URL",
    ),
]

# (key, value, kind): values that are only credentials because of the key they stand under.
KEYED = [
    ("password", "x7#Kq9!vR2mZ", "password-like value under 'password'"),
    ("clientSecret", "6bR_s76SimcHHB00xx5KHyRXRo9n0Caq", "password-like value under 'clientSecret'"),
    ("apiKey", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "high-entropy value under 'apiKey'"),
    ("bearerToken", "e4b7706186e9ea9fbec15b73011cd559", "high-entropy value under 'bearerToken'"),
    ("db_pass", "Tr0ub4dor&3xx", "password-like value under 'db_pass'"),
    (
        "AWS_SECRET_ACCESS_KEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "high-entropy value under 'AWS_SECRET_ACCESS_KEY'",
    ),
    ("credentials", "Zm9vOmJhcjpiYXo6cXV4OjEyMzQ1Njc4OTA6YWJjZGVm", "high-entropy value under 'credentials'"),
]

# Look-alikes the example fleet is full of: each is a name, an id or a digest, never a secret.
TRAPS = {
    "accountID": "123456789012",
    "roleARN": "arn:aws:iam::123456789012:role/argocd-fleet",
    "subscriptionID": "6f1c2d3e-0000-4000-8000-1234567890ab",
    "server": "https://4F2A9C1E.gr7.us-east-1.eks.amazonaws.com",
    "endpoint": "https://0F6D2B1C9A8E7D6C5B4A39281706F5E4.gr7.ap-south-1.eks.amazonaws.com",
    "aks": "https://analytics-westeurope-dns-7f3a.hcp.westeurope.azmk8s.io:443",
    "image": "quay.io/thanos/thanos:v0.38.0@sha256:"
    + "93ba8d548027e926e542caee9f0d9cee399164f426749cfa19e364f43b3e32e1",
    "pods": "10.16.0.0/14",
    "v6": "fd00:10:16::/48",
    "objectStorageSecret": "thanos-objstore",
    "labels": {"tier": "standard", "data-residency": "eu", "site": "store-042", "team": "payments-7f3a9c"},
    "secretName": "argocd-manager-token-7x9kq",
    "argocd.argoproj.io/secret-type": "cluster",
    "passwordFile": "/etc/secrets/db/password",
    "bearerTokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token",
    "tokenURL": "https://oauth2.example.com/token",
    "password": "${DB_PASSWORD}",
    "apiKey": "{{ .Values.apiKey }}",
    "automountServiceAccountToken": False,
    "clientSecretRef": {"name": "oidc-client", "key": "client-secret"},
    "repoURL": "git@github.com:example/platform-config.git",
    "instanceType": "Standard_D8s_v5",
}


def _kinds(hits: list[Hit]) -> list[str]:
    return [hit.kind for hit in hits]


@pytest.mark.parametrize(("value", "kind"), SHAPED)
def test_shaped_credential_found_under_any_key(value, kind):
    hits = scan_data({"clusters": [{"labels": {"note": value}}]})
    assert _kinds(hits) == [kind]
    assert hits[0].path == ("clusters", 0, "labels", "note")


@pytest.mark.parametrize(("value", "kind"), SHAPED)
def test_shaped_credential_found_in_text(value, kind):
    text = yaml.safe_dump({"metadata": {"name": "x"}, "data": {"note": value}})
    assert kind in [found_kind for _, found_kind, _ in scan_text(text)]


@pytest.mark.parametrize(("key", "value", "kind"), KEYED)
def test_value_under_secret_named_key(key, value, kind):
    assert _kinds(scan_data({"spec": {key: value}})) == [kind]
    assert [(line, found) for line, found, _ in scan_text(f"spec:\n  {key}: {value}\n")] == [(2, kind)]


@pytest.mark.parametrize(("key", "value", "kind"), KEYED)
def test_same_value_under_a_plain_key_is_not_reported(key, value, kind):
    assert scan_data({"spec": {"description": value}}) == []


def test_secret_named_key_in_json_inside_yaml():
    config = json.dumps({"tlsClientConfig": {"insecure": False}, "bearerToken": "e4b7706186e9ea9fbec15b73011cd559"})
    text = yaml.safe_dump({"stringData": {"name": "prod", "config": config}})
    assert [kind for _, kind, _ in scan_text(text)] == ["high-entropy value under 'bearerToken'"]


def test_committable_argocd_cluster_secret_is_clean():
    """awsAuthConfig + a public CA (a long random base64 blob) is what fleetgen renders: no finding."""
    ca_data = base64.b64encode(random.Random(5).randbytes(1100)).decode()
    config = {
        "awsAuthConfig": {"clusterName": "prod-us-east-1", "roleARN": TRAPS["roleARN"]},
        "tlsClientConfig": {"insecure": False, "caData": ca_data},
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "cluster-prod", "labels": {"argocd.argoproj.io/secret-type": "cluster"}},
        "stringData": {"name": "prod", "server": TRAPS["endpoint"], "config": json.dumps(config)},
    }
    assert scan_data(secret) == []
    assert scan_text(yaml.safe_dump(secret)) == []


def test_env_var_and_helm_parameter_values_take_the_name_as_key():
    data = {
        "env": [
            {"name": "DB_PASSWORD", "value": "Tr0ub4dor&3xx"},
            {"name": "LOG_LEVEL", "value": "Debug#Level1"},
        ]
    }
    assert scan_data(data) == [Hit(("env", 0, "value"), "password-like value under 'DB_PASSWORD'", "*************")]


def test_json_patch_value_takes_the_last_path_segment_as_key():
    patch = {"op": "add", "path": "/stringData/password", "value": "x7#Kq9!vR2mZ"}
    assert _kinds(scan_data({"patches": [patch]})) == ["password-like value under 'password'"]


def test_credential_as_a_mapping_key_is_reported_at_its_path():
    hits = scan_data({"weights": {"AKIAIOSFODNN7EXAMPLE": 3}})
    assert hits == [Hit(("weights", "AKIAIOSFODNN7EXAMPLE"), "AWS access key", "AKIA…(20 chars)")]


def test_shaped_value_under_secret_named_key_is_reported_once():
    assert _kinds(scan_data({"token": "ghp_" + "a1B2" * 9})) == ["GitHub token"]
    assert [kind for _, kind, _ in scan_text("token: ghp_" + "a1B2" * 9)] == ["GitHub token"]


@pytest.mark.parametrize("key", sorted(TRAPS))
def test_look_alikes_are_not_reported(key):
    assert scan_data({key: TRAPS[key]}) == []
    assert scan_text(yaml.safe_dump({key: TRAPS[key]})) == []


def test_invalid_jwt_shape_is_not_reported():
    assert scan_data({"note": "eyJub3QganNvbg.eyJub3QganNvbg.c2ln"}) == []


@pytest.mark.parametrize(("value", "kind"), SHAPED)
def test_masked_never_contains_the_secret(value, kind):
    (hit,) = scan_data({"x": value})
    assert value not in hit.masked
    assert "hunter2" not in hit.masked and "s3cr3t" not in hit.masked
    ((_, _, masked),) = scan_text(yaml.safe_dump({"x": value}))
    assert value not in masked


@pytest.mark.parametrize(("key", "value", "kind"), KEYED)
def test_masked_keyed_value_never_contains_the_secret(key, value, kind):
    (hit,) = scan_data({key: value})
    assert value not in hit.masked and value[4:] not in hit.masked


def test_mask_shapes():
    assert mask("hunter2") == "*******"
    assert mask("ghp_" + "a" * 36) == "ghp_…(40 chars)"
    assert mask("") == ""


def test_scan_text_line_numbers_survive_unicode_crlf_and_a_missing_final_newline():
    lines = [
        "# ünïcødé: 名前 — before anything",
        "apiVersion: v1\r",
        "kind: Secret",
        "data:",
        "  a: AKIAIOSFODNN7EXAMPLE\r",
        "  ok: https://4F2A9C1E.gr7.us-east-1.eks.amazonaws.com",
        "",
        f"  b: {FAKE_JWT}",
        "  c: https://user:hunter2@example.com",  # last line, no newline
    ]
    found = scan_text("\n".join(lines))
    assert [(line, kind) for line, kind, _ in found] == [
        (5, "AWS access key"),
        (8, "JWT"),
        (9, "password in URL"),
    ]


def test_pem_inside_a_quoted_multiline_scalar_is_found_on_its_line():
    text = 'a: 1\nkey: "-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEE\\n-----END EC PRIVATE KEY-----"\n'
    assert [(line, kind) for line, kind, _ in scan_text(text)] == [(2, "PEM private key")]


def test_example_fleet_is_clean(example_text):
    doc, findings = load_text(example_text, "fleet.yaml")
    assert doc is not None and not findings
    assert scan_data(doc.data) == []
    assert scan_text(example_text) == []


def _synthetic_fleet(example_text: str, clusters: int, seed: int) -> dict:
    """A schema-valid fleet with realistic ids, endpoints, ARNs, GUIDs and digests in every cluster."""
    rng = random.Random(seed)
    fleet = yaml.load(example_text, Loader=yaml.CSafeLoader)
    fleet["observability"]["thanos"]["image"] += "@sha256:" + rng.randbytes(32).hex()
    fleet["clusters"] = [_synthetic_cluster(index, rng) for index in range(clusters)]
    for workload in fleet["workloads"]:
        workload.pop("weights", None)  # they name the example's clusters
    return fleet


def _synthetic_cluster(index: int, rng: random.Random) -> dict:
    provider, region, server = _synthetic_provider(index, rng)
    cluster = {
        "name": f"c{index:04d}-{region}",
        "environment": ("development", "staging", "production")[index % 3],
        "region": region,
        "labels": {
            "tier": ("standard", "gpu", "edge")[index % 3],
            "site": f"store-{index:03d}",
            "cost-center": "cc-" + rng.randbytes(3).hex(),
        },
        "provider": provider,
        "network": {
            "pods": f"10.{index // 64}.{index % 64 * 4}.0/22",
            "services": f"172.16.{index % 256}.0/24",
            "meshID": index % 511 + 1,
        },
        "nodePools": [
            {
                "name": "general",
                "instanceType": rng.choice(["m6i.2xlarge", "Standard_D8s_v5", "n2-standard-8"]),
                "min": 1,
                "max": 10,
                "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
            }
        ],
    }
    if server:
        cluster["server"] = server
    return cluster


def _synthetic_provider(index: int, rng: random.Random) -> tuple[dict, str, str | None]:
    kind = index % 5
    if kind == 0:
        account = f"{rng.randrange(10**11, 10**12)}"
        endpoint = rng.randbytes(16).hex().upper()
        return (
            {"type": "aws", "accountID": account, "roleARN": f"arn:aws:iam::{account}:role/argocd-fleet"},
            "us-east-1",
            f"https://{endpoint}.gr7.us-east-1.eks.amazonaws.com",
        )
    if kind == 1:
        guid = "-".join(rng.randbytes(n).hex() for n in (4, 2, 2, 2, 6))
        return (
            {"type": "azure", "subscriptionID": guid, "resourceGroup": f"rg-fleet-{index}"},
            "westeurope",
            f"https://fleet-{index}-dns-{rng.randbytes(2).hex()}.hcp.westeurope.azmk8s.io:443",
        )
    if kind == 2:
        return {"type": "gcp", "project": f"example-ml-{rng.randbytes(3).hex()}"}, "us-central1", None
    if kind == 3:
        return (
            {
                "type": "vsphere",
                "server": "vcenter.dc1.example.com",
                "datacenter": "dc1",
                "template": "ubuntu-2204-kube-v1.30.2",
            },
            "dc1",
            f"https://10.200.{index % 250}.10:6443",
        )
    return {"type": "imported"}, "local", f"https://10.201.{index % 250}.10:6443"


def test_synthetic_300_cluster_fleet_is_clean(example_text):
    text = yaml.dump(_synthetic_fleet(example_text, 300, seed=3), Dumper=yaml.CSafeDumper, sort_keys=False)
    doc, findings = load_text(text, "fleet.yaml")
    assert doc is not None and not findings and not validate(doc)
    assert scan_data(doc.data) == []
    assert scan_text(text) == []


def test_scan_data_on_a_5000_cluster_fleet_is_clean(example_text):
    # bench/ measures the speed; here only the result counts (no timed asserts in the suite)
    assert scan_data(_synthetic_fleet(example_text, 5000, seed=11)) == []


HOSTILE_LINES = {
    "jwt-starts": "eyJ" * 200_000,
    "key-words": "secret " * 200_000,
    "long-run": "x" * 1_000_000 + " token",
    "aws-starts": "AKIA" * 200_000,
}


@pytest.mark.parametrize("line", HOSTILE_LINES.values(), ids=HOSTILE_LINES.keys())
def test_scan_text_finishes_on_hostile_lines(line):
    # a quadratic pattern took over a minute on these; the fixed one takes well under a second
    found = scan_text(line)
    assert len(found) <= 1 and all(masked not in line[:40] for _, _, masked in found)


def test_a_key_and_value_seen_clean_before_are_still_scanned_in_a_new_place():
    """scan_data remembers clean strings and quiet keys: a later secret under a familiar key is still found."""
    token = "ghp_" + "a1B2" * 9  # GitHub token shape: ghp_ and 36 characters
    clusters = [
        {"name": f"c{i}", "labels": {"tier": "edge"}, "env": [{"name": "MODE", "value": "x"}]} for i in range(3)
    ]
    clusters.append({"name": "AKIAIOSFODNN7EXAMPLE", "labels": {"tier": token}})
    clusters.append(
        {"name": "c4", "env": [{"name": "DB_PASSWORD", "value": "x"}, {"name": "DB_PASSWORD", "value": "Zq8#kLm2Pw9!"}]}
    )
    clusters.append({"name": "c5", "labels": {"tier": "edge"}, "password": ["ok", "Zq8#kLm2Pw9!"]})
    found = [(h.path, h.kind) for h in scan_data({"clusters": clusters})]
    assert found == [
        (("clusters", 3, "name"), "AWS access key"),
        (("clusters", 3, "labels", "tier"), "GitHub token"),
        (("clusters", 4, "env", 1, "value"), "password-like value under 'DB_PASSWORD'"),
        (("clusters", 5, "password", 1), "password-like value under 'password'"),
    ]


# Lines for scan_text_since's texts: clean ones, look-alikes and credentials of every kind, CRLF and Unicode.
_SINCE_LINES = [
    "| `deve-aws-03000` | development | us-east-1 | aws | 1.31 |",
    'karmadactl register hub:443 --token="$KARMADA_BOOTSTRAP_TOKEN" --cluster-name=edge-1',
    "# ünïcødé — 名前\r",
    "",
    *(f"  value: {value.splitlines()[0]}" for value, _ in SHAPED),
    *(f"  {key}: {value}" for key, value, _ in KEYED),
    *(f"  {key}: {value}" for key, value in TRAPS.items() if isinstance(value, str)),
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_SINCE_LINES), max_size=30),
    st.lists(
        st.tuples(st.integers(0, 40), st.sampled_from(["delete", "insert", "replace"]), st.sampled_from(_SINCE_LINES)),
        max_size=8,
    ),
)
def test_a_text_scanned_since_its_last_version_finds_what_a_whole_scan_finds(before_lines, edits):
    """Only the lines the last version did not hold clean are scanned; the hits are a whole scan's, line for line."""
    lines = list(before_lines)
    for at, how, line in edits:
        at = min(at, len(lines))
        if how == "insert":
            lines.insert(at, line)
        elif lines and how == "delete":
            del lines[min(at, len(lines) - 1)]
        elif lines:
            lines[min(at, len(lines) - 1)] = line
    before, text = "\n".join(before_lines), "\n".join(lines)
    hit_lines = [line for line, _, _ in scan_text(before)]
    assert scan_text_since(text, before, hit_lines) == scan_text(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_SINCE_LINES), max_size=12), max_size=8), st.integers(1, 40))
def test_a_line_scan_finds_in_each_text_what_a_whole_scan_finds(texts, limit):
    """Each distinct line is scanned once across the texts; the hits are each text's whole scan's, in order, also
    when the memory of lines seen starts again past its limit."""
    scan = LineScan(limit)
    for lines in texts:
        text = "\n".join(lines)
        assert scan(text) == scan_text(text)


def test_a_line_scan_reports_a_line_seen_before_again_where_it_recurs():
    secret = f"  value: {SHAPED[0][0]}"
    scan = LineScan()
    assert scan(f"a: 1\n{secret}") == scan_text(f"a: 1\n{secret}") != []
    assert scan(f"{secret}\nb: 2\n{secret}") == scan_text(f"{secret}\nb: 2\n{secret}")
    assert [line for line, _, _ in scan(f"{secret}\nb: 2\n{secret}")] == [1, 3]
    assert scan("a: 1\nb: 2") == []


def test_a_scan_since_scans_again_what_the_last_version_had_a_hit_on_and_refuses_hits_it_cannot_have():
    secret = f"  value: {SHAPED[0][0]}"
    before = f"a: 1\n{secret}\nb: 2"
    assert scan_text_since(f"{secret}\na: 1", before, [2]) == scan_text(f"{secret}\na: 1") != []
    assert scan_text_since(f"{secret}\na: 1", before, []) == []  # what it is told: the line was clean
    assert scan_text_since(f"{secret}\na: 1", before, [7]) == scan_text(f"{secret}\na: 1")  # not this text's hits
