"""The field helpers every record source shares (cso_policy.toolkit.fields)."""

import pytest

from cso_policy.toolkit.fields import MappingError, derive, get, lookup, values

ISSUE = {"priority": {"name": "High"}, "labels": ["lob-retail", "vip"], "project": {"key": "SUP"},
         "customfield_10010": {"requestType": {"name": "Emailed request"}}, "count": 3, "blank": " "}


def test_get_and_values_read_dotted_paths_and_flatten_lists():
    assert get(ISSUE, "project.key") == "SUP" and get(ISSUE, "project.nope.x") is None
    assert values(ISSUE, "priority") == (["High"], False)
    assert values(ISSUE, "labels") == (["lob-retail", "vip"], True)
    assert values(ISSUE, "customfield_10010.requestType.name") == (["Emailed request"], False)
    assert values(ISSUE, "count") == (["3"], False) and values(ISSUE, "blank") == ([], False)


def test_lookup_matches_exactly_then_ignoring_case():
    assert lookup({"High": "P2", "high": "P1"}, "high") == "P1"
    assert lookup({"High": "P2"}, "HIGH") == "P2" and lookup({"High": "P2"}, "Low") is None


def test_derive_through_a_map_a_list_field_and_a_fallback():
    assert derive(ISSUE, "priority", {"high": "P2"}, None, "severity") == "P2"
    assert derive(ISSUE, "labels", {"lob-retail": "retail"}, None, "lob") == "retail"  # vip is passed over
    assert derive(ISSUE, "project.key", None, None, "contract") == "SUP"
    assert derive(ISSUE, "missing", None, "web", "channel") == "web"
    assert derive(ISSUE, None, None, "NW-2026", "contract") == "NW-2026"


@pytest.mark.parametrize(("path", "mapping", "message"), [
    ("priority", {"urgent": "P1"}, "fields.priority value 'High' is not in severity_map (known: urgent)"),
    ("labels", {"lob-retail": "retail", "vip": "outlet"},
     "fields.labels values ['lob-retail', 'vip'] map to several values (retail, outlet) through severity_map"),
    ("labels", None, "fields.labels has several values ['lob-retail', 'vip']; set severity_map to choose one"),
    ("missing", {"x": "P1"}, "fields.missing has no mapped value and no default severity is set"),
])
def test_derive_says_which_field_and_option_when_it_cannot(path, mapping, message):
    with pytest.raises(MappingError) as err:
        derive(ISSUE, path, mapping, None, "severity", label=f"fields.{path}")
    assert str(err.value) == message
