"""Shared fixtures for the cso-policy-zendesk tests (rootdir-independent: no package imports
between test modules; everything shared lives here as fixtures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cso_policy import BadLine, ConfigError

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def base_options() -> dict:
    """The options the fixture export is written for."""
    return {
        "contract": "NW-2026",
        "lob_from": "tags",
        "lob_map": {"lob_retail": "retail", "lob_outlet": "outlet"},
        "rca_field": 360000111,
        "tier2_field": 360000333,
    }


@pytest.fixture
def read_all():
    """read_all(path, options, **kw) -> the list of (file, line, obj) the source yields for
    *options* (a dict of valid options: what the core would structure; bad options are tested
    through the core, see the option_error fixture)."""
    import cso_policy_zendesk
    from cso_policy_zendesk.options import ZendeskOptions

    def run(path, options, **kw):
        opts = ZendeskOptions(**options)
        assert opts.problems(path) == [], opts.problems(path)
        return list(cso_policy_zendesk.read(path, opts, **kw))

    return run


@pytest.fixture
def option_error(cso_workspace):
    """option_error(path, options, plugin_table=None) -> the one-line ConfigError the core stops the run
    with for a [[records]] entry of the zendesk source with *path* (None: the live API) and *options*."""
    import cso_policy_zendesk

    def run(path, options, plugin_table=None):
        if plugin_table is not None:
            cso_workspace.plugin_options("zendesk", **plugin_table)
        cso_workspace.source("zendesk", path, **options)
        with pytest.raises(ConfigError) as info:
            cso_workspace.audit(plugins=[("zendesk", cso_policy_zendesk)])
        return str(info.value)

    return run


@pytest.fixture
def by_id():
    def index(triples) -> dict:
        return {obj["id"]: obj for _, _, obj in triples if isinstance(obj, dict)}

    return index


@pytest.fixture
def bad_lines():
    def only(triples) -> list[tuple[int, str]]:
        return [(line, obj.reason) for _, line, obj in triples if isinstance(obj, BadLine)]

    return only


@pytest.fixture
def write_export(tmp_path):
    """write_export(pages, name="export.jsonl", jsonl=True) -> path: pages as JSON Lines (or one doc)."""

    def write(pages, name: str = "export.jsonl", jsonl: bool = True) -> Path:
        path = tmp_path / name
        if jsonl:
            path.write_text("".join(json.dumps(p) + "\n" for p in pages), encoding="utf-8")
        else:
            path.write_text(json.dumps(pages), encoding="utf-8")
        return path

    return write


@pytest.fixture
def ticket():
    """ticket(id, **fields) -> a minimal ticket in the API's shape."""

    def make(id: int, **fields) -> dict:
        t = {
            "url": f"https://acme.zendesk.com/api/v2/tickets/{id}.json",
            "id": id,
            "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": "2026-03-02T14:00:00Z",
            "updated_at": "2026-03-02T14:00:00Z",  # never updated: its priority is the opening one
            "type": "incident",
            "subject": f"ticket {id}",
            "priority": "normal",
            "status": "open",
            "requester_id": 9001,
            "organization_id": 555,
            "brand_id": 1,
            "group_id": 20,
            "tags": [],
            "custom_fields": [],
        }
        t.update(fields)
        return t

    return make


@pytest.fixture
def make_contract(cso_workspace):
    """make_contract(tier, lobs, id) -> writes Northwind's contract (term 2026, New York, no
    holiday calendar, no overage agreement) into ``cso_workspace``; returns its data."""

    def make(tier: str = "foundations", lobs=("retail", "outlet"), id: str = "NW-2026") -> dict:
        return cso_workspace.contract(
            id=id, customer="Northwind Retail", holidays=None, overage=None,
            packages=[{"id": "nw-pkg", "tier": tier, "lines_of_business": list(lobs)}],
        )

    return make
