"""Safe exposure defaults: EKS endpoint, argocd-agent principal settings, Pod Security contract field."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from fleetgen.render import capi, security

from tests.conftest import fleet_from_text

PRINCIPAL_CHART = Path(__file__).parents[1] / "schemas" / "upstream" / "helm" / "argocd-agent-principal"
PRINCIPAL_SCHEMA = PRINCIPAL_CHART / "0.3.2" / "values.schema.json"
PRINCIPAL_DEFAULTS = PRINCIPAL_CHART / "0.3.2" / "values.yaml"


def deep_merge(base, over):
    """Helm's coalescing of user values over chart defaults: maps merge, everything else is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: deep_merge(base[k], v) if k in base else v for k, v in over.items()}}
    return over


FLEET = """
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: expo
repo: {url: "https://git.example.com/fleet"}
hub: {name: hub HUB}
network: {mesh: none}
defaults: {kubernetesVersion: "1.30"}
clusters:
  - name: eks
    environment: production
    region: us-east-1
    server: https://eks.example.com
    provider: {type: aws, accountID: "123456789012", roleARN: "arn:aws:iam::123456789012:role/a" ACCESS}
    network: {pods: 10.0.0.0/16, services: 10.100.0.0/16}
  - name: edge
    environment: production
    region: r1
    server: https://10.9.0.1:6443
    provider: {type: imported}
    argocd: {mode: pull}
    network: {pods: 10.1.0.0/16, services: 10.101.0.0/16}
"""


def fleet(hub: str = "", access: str = ""):
    return fleet_from_text(FLEET.replace(" HUB", hub).replace(" ACCESS", access))


def control_plane(f) -> dict:
    docs = [d for file in capi.render(f) for d in file.documents]
    return next(d for d in docs if d["kind"] == "AWSManagedControlPlane")


@pytest.mark.parametrize(
    ("access", "expected"),
    [
        ("", {"public": False, "private": True}),  # unset, EKS would make it public only
        (", endpointAccess: public", {"public": True, "private": False}),
        (", endpointAccess: public-and-private", {"public": True, "private": True}),
    ],
)
def test_eks_endpoint_is_private_unless_asked(access, expected):
    assert control_plane(fleet(access=access))["spec"]["endpointAccess"] == expected


def test_principal_values_require_client_certificates_and_stay_internal():
    [values_file] = security.render(fleet())
    assert values_file.path == "bootstrap/argocd-agent-principal/values.yaml"
    [values] = values_file.documents
    schema = json.loads(PRINCIPAL_SCHEMA.read_text())
    merged = deep_merge(yaml.safe_load(PRINCIPAL_DEFAULTS.read_text()), values)  # what helm validates
    assert [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(merged)] == []
    tls = values["principal"]["tls"]
    assert tls["clientCert"] == {"require": True, "matchSubject": True}  # chart default: require false
    assert tls["server"]["allowGenerate"] is False and tls["insecurePlaintext"] is False
    assert values["principal"]["auth"] == "mtls:CN=([^,]+)"
    assert values["principal"]["allowedNamespaces"] == "edge"
    assert values["service"]["type"] == "ClusterIP"  # chart default: a public LoadBalancer on 443


@pytest.mark.parametrize(
    ("provider", "annotation"),
    [
        # the AWS Load Balancer Controller reads the scheme; the in-tree cloud provider reads only -internal
        (
            "aws",
            {
                "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
                "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
            },
        ),
        ("gcp", {"networking.gke.io/load-balancer-type": "Internal"}),
        ("azure", {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}),
    ],
)
def test_principal_is_an_internal_load_balancer_on_the_hubs_provider(provider, annotation):
    [values] = security.render(fleet(hub=f", provider: {provider}"))[0].documents
    assert values["service"]["type"] == "LoadBalancer"
    assert values["service"]["annotations"] == annotation


def test_no_principal_values_without_pull_clusters():
    text = FLEET.replace(" HUB", "").replace(" ACCESS", "").replace("    argocd: {mode: pull}\n", "")
    assert security.render(fleet_from_text(text)) == []
