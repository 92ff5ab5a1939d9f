"""Helpers for record-source authors: HTTP for live sources, field access and option maps; the
public names are re-exported by ``cso_policy``."""
