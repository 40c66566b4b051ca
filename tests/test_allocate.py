"""CIDR and mesh id allocation: lowest free, never overlapping, a clear finding when a pool runs out."""

from __future__ import annotations

import dataclasses
import ipaddress
from pathlib import Path

from click.testing import CliRunner
from fleetgen.allocate import Allocated, allocate, lowest_free_block, lowest_free_mesh_id, merged
from fleetgen.findings import Issue
from fleetgen.main import cli
from fleetgen.model import ClusterNetwork, Fleet

from tests.conftest import fleet_from_text

net = ipaddress.ip_network
BASE = (Path(__file__).resolve().parent / "fleets" / "base.yaml").read_text()


def with_network(text: str, network: str) -> str:
    return text.replace("defaults:", f"network:\n{network}\ndefaults:", 1)


def add(fleet: Fleet, name: str, got: Allocated) -> Fleet:
    """What add-cluster does to the model: one more cluster with the allocated ranges."""
    template = fleet.clusters[0]
    cluster = dataclasses.replace(
        template,
        name=name,
        path=("clusters", len(fleet.clusters)),
        network=ClusterNetwork(got.pods, got.services, 24, got.mesh_id),
    )
    return dataclasses.replace(fleet, clusters=(*fleet.clusters, cluster))


def grow(fleet: Fleet, count: int, provider: str = "") -> tuple[Fleet, list[Allocated], Issue | None]:
    results = []
    for i in range(count):
        got = allocate(fleet, provider)
        if not isinstance(got, Allocated):
            return fleet, results, got
        results.append(got)
        fleet = add(fleet, f"new-{i}", got)
    return fleet, results, None


def test_lowest_free_block_fills_holes_in_address_order():
    taken = [net("10.0.0.0/16"), net("10.1.128.0/17"), net("10.3.0.0/24")]
    assert lowest_free_block(net("10.0.0.0/8"), 16, taken) == net("10.2.0.0/16")
    assert lowest_free_block(net("10.0.0.0/8"), 17, taken) == net("10.1.0.0/17")
    assert lowest_free_block(net("10.0.0.0/8"), 24, taken) == net("10.1.0.0/24")


def test_lowest_free_block_edges():
    assert lowest_free_block(net("10.0.0.0/8"), 16, [net("8.0.0.0/6")]) is None  # covers the whole pool
    assert lowest_free_block(net("10.0.0.0/15"), 16, [net("10.0.0.0/16"), net("10.1.0.0/16")]) is None
    assert lowest_free_block(net("10.0.0.0/16"), 8, []) is None  # wider than the pool
    v6 = lowest_free_block(net("fd00::/48"), 64, [net("fd00::/64"), net("10.0.0.0/8")])
    assert v6 == net("fd00:0:0:1::/64")


def test_merged_joins_touching_and_nested_spans():
    assert merged([(5, 9), (0, 4), (2, 3), (20, 30), (10, 11)]) == [(0, 11), (20, 30)]


def test_mesh_ids_lowest_free_and_eks_prefers_outside_128_255():
    assert lowest_free_mesh_id([1, 2, 4, None], 255) == 3
    assert lowest_free_mesh_id(range(1, 128), 511, range(128, 256)) == 256
    assert lowest_free_mesh_id(range(1, 128), 255, range(128, 256)) == 128  # nothing else left
    assert lowest_free_mesh_id(range(1, 256), 255) is None


def disjoint(nets: list) -> bool:
    """No two networks share an address: sorted by first address, each starts after every earlier one ends."""
    end = -1
    for first, last in sorted((int(n.network_address), int(n.broadcast_address)) for n in nets):
        if first <= end:
            return False
        end = max(end, last)
    return True


def test_the_disjointness_oracle():
    assert disjoint([net("10.0.0.0/16"), net("10.1.0.0/16"), net("172.16.0.0/24")])
    assert not disjoint([net("10.0.0.0/8"), net("10.200.0.0/16")])  # nested
    assert not disjoint([net("10.0.0.0/24"), net("10.0.0.128/25")])


def test_thousand_clusters_never_overlap():
    text = with_network(
        BASE,
        "  mesh: none\n  allocation: {pods: 10.0.0.0/8, podPrefix: 20, services: 172.16.0.0/12, servicePrefix: 24}",
    )
    fleet, results, problem = grow(fleet_from_text(text), 1000)
    assert problem is None and len(results) == 1000
    nets = [n for c in fleet.clusters for n in (c.network.pods, c.network.services)]
    assert disjoint(nets)
    # lowest first: the pod pool fills upwards around the existing clusters' 10.0-10.2/16
    # services skip 172.16.0.0/16: base.yaml's prod-a has its node network there
    assert results[0].pods == net("10.3.0.0/20") and results[0].services == net("172.17.0.0/24")
    assert results[-1].pods < net("10.66.0.0/20")


def test_mesh_ids_unique_until_the_mesh_is_full():
    text = with_network(
        BASE,
        "  maxConnectedClusters: 511\n  allocation: {pods: 10.0.0.0/8, podPrefix: 20, "
        "services: 172.16.0.0/12, servicePrefix: 24}",
    )
    fleet, results, problem = grow(fleet_from_text(text), 600)
    ids = [c.network.mesh_id for c in fleet.clusters]
    assert len(ids) == 511 and sorted(ids) == list(range(1, 512))
    assert len(results) == 508  # the example already holds ids 1, 2, 3
    assert problem.rule == "allocation" and "every mesh id from 1 to 511 is taken" in problem.message
    assert problem.path == ("network", "maxConnectedClusters")


def test_exhausted_pool_is_a_finding():
    text = with_network(
        BASE, "  allocation: {pods: 10.8.0.0/14, podPrefix: 16, services: 172.16.0.0/12, servicePrefix: 24}"
    )
    _, results, problem = grow(fleet_from_text(text), 10)
    assert [str(r.pods) for r in results] == ["10.8.0.0/16", "10.9.0.0/16", "10.10.0.0/16", "10.11.0.0/16"]
    assert problem.path == ("network", "allocation", "pods")
    assert problem.message == ("the pods pool 10.8.0.0/14 is exhausted: no free /16 block overlaps no cluster's CIDRs")


def test_services_never_land_in_the_new_pod_block():
    text = with_network(
        BASE, "  allocation: {pods: 10.8.0.0/14, podPrefix: 16, services: 10.8.0.0/14, servicePrefix: 20}"
    )
    got = allocate(fleet_from_text(text))
    assert got.pods == net("10.8.0.0/16") and got.services == net("10.9.0.0/20")


def test_no_allocation_pools():
    problem = allocate(fleet_from_text(BASE))
    assert problem.rule == "allocation" and "no network.allocation" in problem.message


def test_cli_reports_exhaustion_at_the_pool_and_writes_nothing(tmp_path):
    path = tmp_path / "fleet.yaml"
    path.write_text(
        with_network(
            BASE, "  allocation: {pods: 10.0.0.0/15, podPrefix: 16, services: 172.16.0.0/12, servicePrefix: 24}"
        )
    )
    before = path.read_bytes()
    result = CliRunner().invoke(
        cli,
        ["add-cluster", "extra", "--environment", "staging", "--region", "x", "--provider", "docker", str(path)],
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    assert f"{path}:" in result.output
    assert "error[allocation] the pods pool 10.0.0.0/15 is exhausted" in result.output
    assert path.read_bytes() == before


NODE_POOLS = "  allocation: {pods: 10.8.0.0/14, podPrefix: 16, services: 10.96.0.0/12, servicePrefix: 20, "


def test_node_network_is_the_lowest_block_no_cluster_uses():
    got = allocate(fleet_from_text(with_network(BASE, NODE_POOLS + "nodes: 172.16.0.0/12, nodePrefix: 16}")))
    # base.yaml's prod-a already has nodes 172.16.0.0/16
    assert (got.pods, got.services, got.nodes) == (net("10.8.0.0/16"), net("10.96.0.0/20"), net("172.17.0.0/16"))


def test_node_network_never_lands_in_the_new_pod_or_service_block():
    got = allocate(fleet_from_text(with_network(BASE, NODE_POOLS + "nodes: 10.8.0.0/14, nodePrefix: 16}")))
    assert got.pods == net("10.8.0.0/16") and got.nodes == net("10.9.0.0/16")


def test_exhausted_node_pool_is_a_finding():
    problem = allocate(fleet_from_text(with_network(BASE, NODE_POOLS + "nodes: 172.16.0.0/16, nodePrefix: 16}")))
    assert problem.path == ("network", "allocation", "nodes")
    assert problem.message.startswith("the nodes pool 172.16.0.0/16 is exhausted")


def test_without_a_node_pool_nothing_is_allocated_for_nodes():
    text = with_network(
        BASE, "  allocation: {pods: 10.8.0.0/14, podPrefix: 16, services: 10.96.0.0/12, servicePrefix: 20}"
    )
    assert allocate(fleet_from_text(text)).nodes is None


def test_add_cluster_writes_the_node_network(tmp_path):
    path = tmp_path / "fleet.yaml"
    path.write_text(with_network(BASE, NODE_POOLS + "nodes: 172.16.0.0/12, nodePrefix: 16}"))
    result = CliRunner().invoke(
        cli,
        ["add-cluster", "extra", "--environment", "staging", "--region", "x", "--provider", "docker", str(path)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    added = fleet_from_text(path.read_text()).cluster("extra")
    assert added.network.nodes == net("172.17.0.0/16")


def test_a_clouds_default_node_network_is_taken():
    # prod-b is a GKE cluster without network.nodes: CAPG makes an auto-mode VPC, 10.128.0.0/9. The two /9
    # blocks of 10.0.0.0/8 are then both taken (10.0.0.0/9 holds prod-a's pods 10.0.0.0/16).
    pools = "  allocation: {pods: 10.0.0.0/8, podPrefix: 9, services: 172.30.0.0/16, servicePrefix: 20}"
    problem = allocate(fleet_from_text(with_network(BASE, pools)))
    assert isinstance(problem, Issue) and problem.path == ("network", "allocation", "pods")
    own_vpc = BASE.replace("meshID: 2}", "meshID: 2, nodes: 172.20.0.0/20}")
    assert allocate(fleet_from_text(with_network(own_vpc, pools))).pods == net("10.128.0.0/9")


def test_the_new_clusters_own_default_network_is_avoided_without_a_node_pool():
    # prod-b has its own VPC here, so nothing of the fleet lies in 10.224.0.0/11 (10.224.0.0-10.255.255.255).
    own_vpc = BASE.replace("meshID: 2}", "meshID: 2, nodes: 172.20.0.0/20}")
    pools = "  allocation: {pods: 10.8.0.0/14, podPrefix: 16, services: 10.224.0.0/11, servicePrefix: 12}"
    fleet = fleet_from_text(with_network(own_vpc, pools))
    assert allocate(fleet, "docker").services == net("10.224.0.0/12")
    # a new AKS cluster gets AKS's managed VNet 10.224.0.0/12: its services go to the next /12
    assert allocate(fleet, "azure").services == net("10.240.0.0/12")
    with_nodes = with_network(own_vpc, pools[:-1] + ", nodes: 172.24.0.0/13, nodePrefix: 16}")
    assert allocate(fleet_from_text(with_nodes), "azure").services == net("10.224.0.0/12")  # its own VNet instead
