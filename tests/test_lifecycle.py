"""lifecycle: external — clusters that exist already: real provider everywhere, no Cluster API objects."""

from __future__ import annotations

import json

import pytest
from fleetgen.load import load_text
from fleetgen.render import argocd, capi, karmada, targets
from fleetgen.schema import validate

from tests.conftest import fleet_from_text, lint_text
from tests.test_faults_git import git

CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJrVENDQVRlZ0F3SUJBZ0lJRXhhbXBsZQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg=="

FLEET = f"""
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: adopted
repo: {{url: "https://git.example.com/fleet"}}
hub: {{name: hub, karmada: {{server: "https://karmada.example.com:5443"}}}}
network: {{mesh: cilium}}
defaults: {{kubernetesVersion: "1.30", lifecycle: external}}
clusters:
  - name: eks-prod
    environment: production
    region: us-east-1
    server: https://ABCDEF.gr7.us-east-1.eks.amazonaws.com
    caData: {CA}
    provider: {{type: aws, accountID: "123456789012", roleARN: "arn:aws:iam::123456789012:role/argocd"}}
    network: {{pods: 10.0.0.0/16, services: 10.100.0.0/16, meshID: 1}}
  - name: gke-prod
    environment: production
    region: europe-west1
    server: https://34.1.2.3
    caData: {CA}
    provider: {{type: gcp, project: example-proj-1}}
    network: {{pods: 10.1.0.0/16, services: 10.101.0.0/16, meshID: 2}}
  - name: aks-prod
    environment: production
    region: westeurope
    server: https://aks-prod-dns-1a2b.hcp.westeurope.azmk8s.io:443
    caData: {CA}
    provider: {{type: azure, subscriptionID: "00000000-0000-0000-0000-000000000001", resourceGroup: rg-prod}}
    network: {{pods: 10.2.0.0/16, services: 10.102.0.0/16, meshID: 3}}
  - name: eks-new
    environment: production
    region: us-west-2
    lifecycle: managed
    provider: {{type: aws, accountID: "123456789012", roleARN: "arn:aws:iam::123456789012:role/argocd"}}
    network: {{pods: 10.3.0.0/16, services: 10.103.0.0/16, nodes: 172.16.0.0/16, meshID: 4}}
"""


@pytest.fixture(scope="module")
def fleet():
    return fleet_from_text(FLEET)


def _secret_config(fleet, name: str) -> tuple[dict, dict]:
    secret = argocd.cluster_secret(fleet, fleet.cluster(name))
    return secret["metadata"]["labels"], json.loads(secret["stringData"]["config"])


def test_external_eks_keeps_aws_auth_and_provider_label(fleet):
    labels, config = _secret_config(fleet, "eks-prod")
    assert labels["provider"] == "aws"
    assert config == {
        "awsAuthConfig": {"clusterName": "eks-prod", "roleARN": "arn:aws:iam::123456789012:role/argocd"},
        "tlsClientConfig": {"insecure": False, "caData": CA},
    }


def test_external_gke_and_aks_keep_their_exec_providers(fleet):
    labels, config = _secret_config(fleet, "gke-prod")
    assert labels["provider"] == "gcp"
    assert config["execProviderConfig"]["args"] == ["gcp"]
    labels, config = _secret_config(fleet, "aks-prod")
    assert labels["provider"] == "azure"
    assert config["execProviderConfig"]["args"] == ["azure"]
    assert config["execProviderConfig"]["env"]["AAD_LOGIN_METHOD"] == "workloadidentity"


def test_external_clusters_get_no_cluster_api_objects(fleet):
    files = {f.path: f for f in capi.render(fleet)}
    assert sorted(files) == ["hub/capi-identities/aws.yaml", "hub/capi/eks-new.yaml"]
    # the account's AWSClusterRoleIdentity serves the managed cluster's namespace only, not eks-prod's
    [identity] = files["hub/capi-identities/aws.yaml"].documents
    assert identity["spec"]["allowedNamespaces"] == {"list": ["eks-new"]}
    every = [f for target in targets() for f in target(fleet)]
    kinds = {d["apiVersion"].split("/")[0] for f in every for d in f.documents if "apiVersion" in d}
    assert "cluster.x-k8s.io" in kinds  # only from eks-new
    external = [f.path for f in every if "capi" in f.path and "eks-new" not in f.path and "identities" not in f.path]
    assert external == []


def test_external_cluster_renders_what_the_managed_one_does_but_its_cluster_api_objects(fleet):
    """Labels, Argo CD authentication, Karmada, Thanos and Cilium are provider facts, not lifecycle ones."""
    import yaml
    from fleetgen.produce import produce

    managed = FLEET.replace("  - name: eks-prod\n", "  - name: eks-prod\n    lifecycle: managed\n", 1)
    external, provisioned = produce(fleet).files, produce(fleet_from_text(managed)).files
    assert sorted(set(provisioned) - set(external)) == ["hub/capi/eks-prod.yaml"] and set(external) <= set(provisioned)
    changed = sorted(p for p in external if external[p] != provisioned[p])
    # the account's identity now also serves eks-prod's namespace, and fleet-platform (with the root
    # app that seeds it) may write that namespace on the hub
    assert changed == [
        "bootstrap/root-app.yaml",
        "hub/argocd/projects/fleet-platform.yaml",
        "hub/capi-identities/aws.yaml",
    ]
    cilium = yaml.safe_load(external["clusters/eks-prod/cilium/values.yaml"])
    assert cilium["ipam"] == {"mode": "eni"} and cilium["eni"] == {"enabled": True}  # EKS datapath kept
    assert "eks-prod" in external["hub/observability/thanos-querier.yaml"].decode()  # the Querier dials its store
    assert "thanos-store-eks-prod" in external["hub/observability/stores/eks-prod.yaml"].decode()


def test_external_cluster_keeps_provider_for_karmada(fleet):
    assert "--cluster-provider=aws" in karmada.join_command(fleet.cluster("eks-prod"))


def test_external_cluster_versions_and_cidrs_are_still_linted():
    from fleetgen.lint import run

    text = FLEET.replace("10.1.0.0/16, services", "10.0.0.0/16, services")
    doc, _ = load_text(text, "fleet.yaml")
    assert validate(doc) == []
    fleet = fleet_from_text(text)
    rules = {f.rule for f in run(doc, fleet).findings}
    assert "cidr-overlap" in rules


def test_lifecycle_value_is_schema_checked():
    doc, _ = load_text(FLEET.replace("lifecycle: managed", "lifecycle: adopted"), "fleet.yaml")
    (finding,) = validate(doc)
    assert finding.rule == "schema" and finding.path[-1] == "lifecycle"


def test_external_vsphere_needs_no_control_plane_server():
    text = FLEET.replace(
        """    provider: {type: gcp, project: example-proj-1}""",
        """    provider: {type: vsphere, server: vcenter.example.com, datacenter: dc1, template: t}""",
    )
    text = text.replace("    server: https://34.1.2.3\n", "")
    doc, _ = load_text(text, "fleet.yaml")
    assert validate(doc) == []
    managed = text.replace(
        'defaults: {kubernetesVersion: "1.30", lifecycle: external}', 'defaults: {kubernetesVersion: "1.30"}'
    )
    assert "vsphere-server" not in [f.rule for f in lint_text(text)]
    assert [f.path for f in lint_text(managed) if f.rule == "vsphere-server"] == [("clusters", 1)]  # gke-prod


# ---------------------------------------------------------------- external -> managed: adoption


def test_diff_shows_external_to_managed_as_adoption_not_a_new_cluster():
    from fleetgen.plan.delta import plan_delta
    from fleetgen.report.diff_text import plan_lines

    base = fleet_from_text(FLEET)
    head = fleet_from_text(FLEET.replace("  - name: aks-prod\n", "  - name: aks-prod\n    lifecycle: managed\n"))
    delta = plan_delta(base, head, {})
    assert delta.adopted == ("aks-prod",) and delta.released == ()
    assert not delta.applications_added and not delta.pending_added
    assert "Cluster API adoption (existing clusters, not new ones): aks-prod" in plan_lines(delta)
    back = plan_delta(head, base, {})
    assert back.released == ("aks-prod",)
    assert any("Cluster API DELETES the cluster" in line for line in plan_lines(back))


def test_plan_lists_adoption_from_the_rendered_tree(tmp_path):
    from click.testing import CliRunner
    from fleetgen.main import cli

    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET)
    runner = CliRunner()
    assert runner.invoke(cli, ["render", str(fleet)]).exit_code == 0
    before = json.loads(runner.invoke(cli, ["plan", str(fleet), "--format", "json"]).output)
    assert "adoptions" not in before
    # a managed GKE cluster needs its patch version (gke-version): CAPG compares it with the running one
    managed = '  - name: gke-prod\n    lifecycle: managed\n    kubernetesVersion: "1.30.5"\n'
    fleet.write_text(FLEET.replace("  - name: gke-prod\n", managed))
    plan = json.loads(runner.invoke(cli, ["plan", str(fleet), "--format", "json"]).output)
    assert plan["adoptions"] == ["gke-prod"]  # eks-new has no rendered tree entry yet: it is created, not adopted
    text = runner.invoke(cli, ["plan", str(fleet)]).output
    assert "Cluster API adoption (1): gke-prod" in text


DOCKER = """  - name: kind-dev
    environment: production
    region: local
    server: https://127.0.0.1:6443
    provider: {type: docker}
    network: {pods: 10.4.0.0/16, services: 10.104.0.0/16, meshID: 5}
"""
MANAGED_KIND = "    lifecycle: managed\n    provider: {type: docker}"


def test_diff_names_how_each_provider_finds_an_adopted_cluster():
    from fleetgen.plan.delta import plan_delta
    from fleetgen.report.diff_text import plan_lines

    base = fleet_from_text(FLEET)
    head = fleet_from_text(FLEET.replace("  - name: eks-prod\n", "  - name: eks-prod\n    lifecycle: managed\n"))
    lines = plan_lines(plan_delta(base, head, {}))
    assert lines == [
        "Cluster API adoption (existing clusters, not new ones): eks-prod",
        "  eks-prod: finds the EKS cluster named eks-prod (eksClusterName), node groups named after the pools",
    ]


def test_a_docker_or_vsphere_switch_to_managed_is_not_adoptable_and_counts_as_destructive():
    from fleetgen.destroy import assess
    from fleetgen.plan.delta import plan_delta
    from fleetgen.report.diff_text import destroy_headline, destroy_items, plan_lines

    base = fleet_from_text(FLEET + DOCKER)
    head = fleet_from_text((FLEET + DOCKER).replace("    provider: {type: docker}", MANAGED_KIND))
    delta = plan_delta(base, head, {})
    assert (delta.adopted, delta.not_adoptable, delta.released) == ((), ("kind-dev",), ())
    assert plan_lines(delta) == [
        "Not adoptable, Cluster API builds a second cluster: kind-dev",
        "  kind-dev: not adoptable: CAPD starts new containers (a second cluster); keep it external",
    ]
    destroys = assess([], delta, {}, head)
    assert destroys.rebuilt == ("kind-dev",) and destroys.count == 1 and destroys.any
    assert destroy_headline(destroys) == "Destroys: 1 running cluster not adoptable (built again beside it)"
    assert destroy_items(destroys) == [
        "cluster kind-dev: not adoptable, Cluster API builds a second cluster in its place"
    ]


def test_vsphere_switch_is_not_adoptable():
    from fleetgen.plan.adoption import lifecycle_changes

    text = FLEET.replace(
        "    provider: {type: gcp, project: example-proj-1}",
        "    provider: {type: vsphere, server: vcenter.example.com, datacenter: dc1, template: t}",
    )
    base = fleet_from_text(text)
    both = text.replace("  - name: gke-prod\n", "  - name: gke-prod\n    lifecycle: managed\n")
    both = both.replace("  - name: aks-prod\n", "  - name: aks-prod\n    lifecycle: managed\n")
    assert lifecycle_changes(base, fleet_from_text(both)) == (("aks-prod",), ("gke-prod",), ())


def test_diff_fails_on_destroy_for_a_cluster_that_is_not_adoptable_but_not_for_an_adoption(tmp_path):
    from click.testing import CliRunner
    from fleetgen.main import cli

    runner = CliRunner()
    fleet = tmp_path / "fleet.yaml"
    git(tmp_path, "init", "-q", "-b", "main")
    fleet.write_text(FLEET + DOCKER)
    assert runner.invoke(cli, ["render", str(fleet)]).exit_code == 0
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "external")

    def diff(text: str):
        fleet.write_text(text)
        assert runner.invoke(cli, ["render", str(fleet)]).exit_code == 0
        result = runner.invoke(cli, ["diff", str(fleet), "--base", "HEAD", "--fail-on", "destroy", "--format", "json"])
        return result.exit_code, json.loads(result.output)

    code, body = diff((FLEET + DOCKER).replace("  - name: aks-prod\n", "  - name: aks-prod\n    lifecycle: managed\n"))
    assert code == 0 and body["destroy"]["count"] == 0
    assert body["plan"]["lifecycle"] == {"adopted": ["aks-prod"], "notAdoptable": [], "released": []}
    # the adopted cluster's Cluster API objects and its namespace among fleet-platform's hub
    # destinations, nothing else: its Secret, labels and Applications stay
    assert {(m["cluster"], m["file"], m["status"]) for m in body["manifests"]} == {
        ("hub", "hub/capi/aks-prod.yaml", "added"),
        ("hub", "bootstrap/root-app.yaml", "changed"),
        ("hub", "hub/argocd/projects/fleet-platform.yaml", "changed"),
    }
    code, body = diff((FLEET + DOCKER).replace("    provider: {type: docker}", MANAGED_KIND))
    assert code == 1
    assert body["destroy"]["notAdoptable"] == ["kind-dev"] and body["destroy"]["count"] == 1
    assert body["plan"]["lifecycle"] == {"adopted": [], "notAdoptable": ["kind-dev"], "released": []}
    text = runner.invoke(cli, ["diff", str(fleet), "--base", "HEAD"]).output
    assert "Destroys: 1 running cluster not adoptable (built again beside it)\n" in text
    assert "  kind-dev: not adoptable: CAPD starts new containers (a second cluster); keep it external\n" in text
    markdown = runner.invoke(cli, ["diff", str(fleet), "--base", "HEAD", "--format", "markdown"]).output
    assert "> [!CAUTION]\n> **Destroys: 1 running cluster not adoptable (built again beside it)**" in markdown
    assert "| **Not adoptable: Cluster API builds a second cluster** | kind-dev |" in markdown


def test_plan_lists_a_cluster_that_is_not_adoptable_apart(tmp_path):
    from click.testing import CliRunner
    from fleetgen.main import cli

    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET + DOCKER)
    runner = CliRunner()
    assert runner.invoke(cli, ["render", str(fleet)]).exit_code == 0
    fleet.write_text((FLEET + DOCKER).replace("    provider: {type: docker}", MANAGED_KIND))
    plan = json.loads(runner.invoke(cli, ["plan", str(fleet), "--format", "json"]).output)
    assert "adoptions" not in plan and plan["notAdoptable"] == ["kind-dev"]
    text = runner.invoke(cli, ["plan", str(fleet)]).output
    assert "Not adoptable (1): kind-dev\n  Cluster API cannot adopt these running clusters" in text
    markdown = runner.invoke(cli, ["plan", str(fleet), "--format", "markdown"]).output
    assert "### Not adoptable (1)" in markdown and "`kind-dev`" in markdown
