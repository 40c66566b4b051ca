"""The model's CIDR parser (its integer fast path for a.b.c.d/n) against the standard library's."""

from __future__ import annotations

import ipaddress

import pytest
from fleetgen.model import ipv4_network, network

CIDRS = [
    "10.0.0.0/8",
    "0.0.0.0/0",
    "255.255.255.255/32",
    "172.16.0.64/26",
    "192.168.1.0/24",
    "10.1.2.3/32",
    "10.0.0.1/8",  # host bits set: strict refuses
    "256.0.0.0/8",
    "10.0.0.0/33",
    "10.0.0.0/99",
    "010.0.0.0/8",
    "10.0.0.0/08",
    "10.0.0/8",
    "10.0.0.0",
    "10.0.0.0/255.0.0.0",
    " 10.0.0.0/8",
    "10.0.0.0/8 ",
    "١٠.0.0.0/8",
    "fd00::/48",
    "fd00::1/48",
    "::/0",
    "",
]


def _outcome(parse, text):
    try:
        return "ok", parse(text)
    except ValueError as exc:
        return type(exc), str(exc)


@pytest.mark.parametrize("text", CIDRS)
def test_network_is_ip_network_strict(text):
    got, want = _outcome(network, text), _outcome(lambda t: ipaddress.ip_network(t, strict=True), text)
    assert got == want
    if got[0] == "ok":
        assert type(got[1]) is type(want[1]) and got[1].prefixlen == want[1].prefixlen


@pytest.mark.parametrize("text", CIDRS)
def test_ipv4_network_is_ipv4network(text):
    assert _outcome(ipv4_network, text) == _outcome(ipaddress.IPv4Network, text)


def test_the_ipv4_shortcut_makes_what_the_constructor_makes():
    """model._ipv4_set sets an IPv4Network's attributes itself; the standard library's constructor is the oracle."""
    import itertools
    import random

    from fleetgen import model

    assert model._ipv4 is model._ipv4_set  # the import-time check accepted it on this Python
    rng = random.Random(7)
    for prefix in range(33):
        for _ in range(20):
            address = rng.getrandbits(32) >> (32 - prefix) << (32 - prefix) if prefix else 0
            got, want = model._ipv4_set(address, prefix), ipaddress.IPv4Network((address, prefix))
            assert vars(got).keys() == vars(want).keys() and got == want and hash(got) == hash(want)
            assert (got.network_address, got.netmask, got.broadcast_address, got.num_addresses) == (
                want.network_address,
                want.netmask,
                want.broadcast_address,
                want.num_addresses,
            )
            assert str(got) == str(want) and got.overlaps(want)
            assert list(itertools.islice(got.hosts(), 2)) == list(itertools.islice(want.hosts(), 2))
