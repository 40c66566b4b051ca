"""Correct against the real APIs: the vendored upstream schemas, their CEL rules, and the rendered-tree check."""
