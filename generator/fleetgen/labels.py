"""fleetgen's own label and annotation keys: written by the renderers, read back by the importer."""

from __future__ import annotations

PREFIX = "fleetgen.io/"  # a cluster's fleet.yaml labels on Cluster API objects; fleetgen's own keys
FLEET_LABEL = PREFIX + "fleet"  # on Argo CD cluster Secrets: the fleet the cluster belongs to
MODE_LABEL = PREFIX + "argocd-mode"  # on Argo CD cluster Secrets: push or pull
