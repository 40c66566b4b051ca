"""An independent Kubernetes RBAC evaluator for tests: what may an identity do, given RBAC documents?

Written from kubernetes pkg/apis/rbac/v1/evaluation_helpers.go and
plugin/pkg/auth/authorizer/rbac/rbac.go, not from fleetgen's renderer:

* a rule matches a verb if it lists the verb or ``*``; an API group if it lists it or ``*``;
* a resource if it lists ``*``, the exact ``resource/subresource`` string, or ``*/subresource``;
  a rule naming ``pods`` therefore does not match ``pods/exec``, but ``*`` does;
* resourceNames, when present, must contain the object's name (a request without a name, such as
  ``list`` or ``create``, never matches a rule with resourceNames);
* a ClusterRoleBinding grants its role in every namespace and at cluster scope; a RoleBinding
  grants its Role or ClusterRole only inside its own namespace;
* a ServiceAccount is the user ``system:serviceaccount:<ns>:<name>`` with the groups
  ``system:serviceaccounts`` and ``system:serviceaccounts:<ns>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

WRITE = ("create", "update", "patch", "delete", "deletecollection")
ALL_VERBS = ("get", "list", "watch", *WRITE, "escalate", "bind", "impersonate")


@dataclass(frozen=True)
class Identity:
    user: str
    groups: frozenset[str]

    @staticmethod
    def group(name: str) -> Identity:
        return Identity(f"someone-in-{name}", frozenset({name, "system:authenticated"}))

    @staticmethod
    def service_account(namespace: str, name: str) -> Identity:
        groups = {"system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"}
        return Identity(f"system:serviceaccount:{namespace}:{name}", frozenset(groups))


def load_documents(paths: Iterable[Path]) -> list[dict[str, Any]]:
    return [d for p in paths for d in yaml.safe_load_all(p.read_text()) if d]


def _subject_matches(subject: dict[str, Any], who: Identity, binding_ns: str | None) -> bool:
    kind = subject["kind"]
    if kind == "Group":
        return subject["name"] in who.groups
    if kind == "User":
        return subject["name"] == who.user
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_ns
        return who.user == f"system:serviceaccount:{ns}:{subject['name']}"
    return False


def _resource_matches(rule_resource: str, resource: str, subresource: str) -> bool:
    combined = f"{resource}/{subresource}" if subresource else resource
    if rule_resource in ("*", combined):
        return True
    return bool(subresource) and rule_resource == f"*/{subresource}"


def rule_allows(rule: dict[str, Any], verb: str, group: str, resource: str, subresource: str, name: str) -> bool:
    if "nonResourceURLs" in rule and "resources" not in rule:
        return False
    verbs, groups = rule.get("verbs", []), rule.get("apiGroups", [])
    if not ("*" in verbs or verb in verbs) or not ("*" in groups or group in groups):
        return False
    if not any(_resource_matches(r, resource, subresource) for r in rule.get("resources", [])):
        return False
    names = rule.get("resourceNames") or []
    return not names or name in names


class Cluster:
    """The RBAC state of one API server made of the given documents."""

    def __init__(self, documents: Iterable[dict[str, Any]]):
        docs = [d for d in documents if d.get("apiVersion", "").startswith("rbac.authorization.k8s.io/")]
        assert not any(d.get("aggregationRule") for d in docs), "aggregated ClusterRoles are not modelled"
        self.cluster_roles = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ClusterRole"}
        self.roles = {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in docs if d["kind"] == "Role"}
        self.bindings = [d for d in docs if d["kind"] in ("ClusterRoleBinding", "RoleBinding")]

    def _rules(self, binding: dict[str, Any]) -> list[dict[str, Any]]:
        ref = binding["roleRef"]
        if ref["kind"] == "ClusterRole":
            role = self.cluster_roles.get(ref["name"])
        else:
            role = self.roles.get((binding["metadata"]["namespace"], ref["name"]))
        return (role or {}).get("rules") or []

    def grants(self, who: Identity) -> list[tuple[str | None, dict[str, Any]]]:
        """(namespace or None for everywhere, rule) for every rule that applies to ``who``."""
        out = []
        for b in self.bindings:
            ns = b["metadata"].get("namespace") if b["kind"] == "RoleBinding" else None
            if any(_subject_matches(s, who, ns) for s in b.get("subjects") or []):
                out += [(ns, rule) for rule in self._rules(b)]
        return out

    def allowed(
        self,
        who: Identity,
        verb: str,
        group: str,
        resource: str,
        *,
        subresource: str = "",
        namespace: str | None = None,
        name: str = "",
    ) -> bool:
        """May ``who`` do this? ``namespace`` None means a cluster-scoped request."""
        for scope, rule in self.grants(who):
            if scope is not None and scope != namespace:
                continue
            if rule_allows(rule, verb, group, resource, subresource, name):
                return True
        return False

    def permissions(self, who: Identity) -> set[tuple[str, str, str, str, str]]:
        """Every grant of ``who`` spelled out, one tuple per (scope, verb, group, resource, name).

        ``scope`` is the namespace of a RoleBinding or ``*`` for a ClusterRoleBinding; ``name`` is ``*``
        when the rule has no resourceNames. Wildcards in a rule stay ``*`` (so they show up), and a
        non-resource rule becomes ``("*", verb, "nonResourceURL", url, "*")``.
        """
        out: set[tuple[str, str, str, str, str]] = set()
        for scope, rule in self.grants(who):
            where = "*" if scope is None else scope
            for verb in rule.get("verbs", []):
                for url in rule.get("nonResourceURLs", []):
                    out.add((where, verb, "nonResourceURL", url, "*"))
                for group in rule.get("apiGroups", []):
                    for resource in rule.get("resources", []):
                        for name in rule.get("resourceNames") or ["*"]:
                            out.add((where, verb, group, resource, name))
        return out

    def subjects(self) -> set[tuple[str, str, str]]:
        return {(s["kind"], s.get("namespace", ""), s["name"]) for b in self.bindings for s in b["subjects"]}


def identity_of(subject: tuple[str, str, str]) -> Identity:
    kind, namespace, name = subject
    if kind == "ServiceAccount":
        return Identity.service_account(namespace, name)
    assert kind == "Group", subject
    return Identity.group(name)
