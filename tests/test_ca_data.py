"""caData: the public CA that lets Argo CD verify a cluster; never a private key."""

from __future__ import annotations

import base64
import json
import re

from fleetgen.load import load_text
from fleetgen.render import argocd
from fleetgen.schema import validate

from .conftest import fleet_from_text, lint_text

CERT = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGUgZm9yIHRlc3RzMAoGCCqGSM49BAMC\n"
    "-----END CERTIFICATE-----\n"
)
KEY = (
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIH5mYWtlIGtleSBmb3IgdGVzdHMgb25seSAtIG5vdCByZWFsoAoGCCqG\n"
    "-----END EC PRIVATE KEY-----\n"
)


def with_ca(text: str, pem: str) -> str:
    """The example with prod-us-east-1's caData (the line after its server) replaced by ``pem``."""
    ca = base64.b64encode(pem.encode()).decode()
    server = "    server: https://4F2A9C1E.gr7.us-east-1.eks.amazonaws.com\n"
    replaced, count = re.subn(re.escape(server) + r"    caData: \S+\n", f"{server}    caData: {ca}\n", text)
    assert count == 1
    return replaced


def test_ca_reaches_the_argocd_cluster_secret(example_text):
    fleet = fleet_from_text(with_ca(example_text, CERT))
    secret = argocd.cluster_secret(fleet, fleet.cluster("prod-us-east-1"))
    config = json.loads(secret["stringData"]["config"])
    assert base64.b64decode(config["tlsClientConfig"]["caData"]).decode() == CERT
    assert config["tlsClientConfig"]["insecure"] is False


def test_private_key_in_ca_data_is_its_own_rule(example_text):
    (finding,) = lint_text(with_ca(example_text, KEY))
    assert finding.rule == "ca-data-private-key" and finding.path == ("clusters", 0, "caData")
    assert finding.line == 53


def test_private_key_in_ca_data_is_reported_when_the_schema_fails_too(example_text):
    text = with_ca(example_text, KEY).replace("replicas: 60", "replicas: sixty")
    assert [f.rule for f in lint_text(text)] == ["ca-data-private-key", "schema"]  # sorted by position


def test_ca_data_must_be_a_certificate(example_text):
    doc, _ = load_text(with_ca(example_text, "just some text, not a certificate at all\n"), "fleet.yaml")
    (finding,) = validate(doc)
    assert finding.rule == "schema" and "PEM certificate" in finding.message


def test_missing_ca_data_names_the_providers_own_command(example_text):
    """One ca-data error per registered push cluster of EKS/GKE/AKS without caData, each naming the CLI call that
    prints the cluster's CA (EKS DescribeCluster certificateAuthority.data, GKE masterAuth.clusterCaCertificate,
    the AKS kubeconfig's certificate-authority-data); pull-mode and unregistered clusters are not asked."""
    text = re.sub(r"    caData: \S+\n", "", example_text)
    gpu = '    kubernetesVersion: "1.30.5"  # GKE: CAPG converges only on MAJOR.MINOR.PATCH\n'
    assert gpu in text
    text = text.replace(gpu, gpu + "    server: https://34.1.2.3\n")  # registered: Argo CD dials it
    hints = {f.path[1]: f.hint for f in lint_text(text) if f.rule == "ca-data"}
    assert hints == {
        0: "set caData to the output of: aws eks describe-cluster --name prod-us-east-1 --region us-east-1 "
        "--query cluster.certificateAuthority.data --output text",
        1: "set caData to the output of: aws eks describe-cluster --name prod-eu-west-1 --region eu-west-1 "
        "--query cluster.certificateAuthority.data --output text",
        2: "set caData to the output of: aws eks describe-cluster --name prod-ap-south-1 --region ap-south-1 "
        "--query cluster.certificateAuthority.data --output text",
        3: "set caData to the output of: aws eks describe-cluster --name staging-us-east-1 --region us-east-1 "
        "--query cluster.certificateAuthority.data --output text",
        4: "set caData to the output of: gcloud container clusters describe gpu-inference-us-central1 "
        "--location us-central1 --project example-ml-prod --format 'value(masterAuth.clusterCaCertificate)'",
        5: "set caData to the output of: az aks get-credentials --resource-group rg-analytics "
        "--name analytics-westeurope --file - | yq '.clusters[0].cluster.\"certificate-authority-data\"'",
    }
