"""fleetgen: one fleet.yaml in, a committed GitOps tree of real manifests out."""

__version__ = "0.1.0"
