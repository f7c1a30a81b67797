"""Places and networks: the keys the trace, timeline, report, hunt and coverage share."""

from __future__ import annotations

import pandas as pd
import pytest

from ir.places import from_new_place, network, place_key


@pytest.mark.parametrize(
    ("ip", "asn", "expected"),
    [
        ("203.0.113.66", None, "203.0.113.0/24"),
        ("203.0.113.201", None, "203.0.113.0/24"),
        ("2001:db8:abcd:12:1::5", None, "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.7", None, "198.51.100.0/24"),  # IPv4-mapped counts as IPv4
        ("fe80::1%eth0", None, "fe80::/48"),  # zone id dropped
        ("198.51.100.7", "14061", "AS14061"),  # the ASN, where logged, wins
        ("198.51.100.7", "AS14061", "AS14061"),
        ("198.51.100.7", "  ", "198.51.100.0/24"),  # blank ASN = not logged
        ("salesforce.com", None, None),  # not an address
        (None, None, None),
        ("", None, None),
    ],
)
def test_network_widens_an_address_to_what_an_organisation_holds(
    ip: str | None, asn: str | None, expected: str | None
) -> None:
    assert network(ip, asn) == expected


def test_place_key_tells_places_apart_and_tolerates_missing_parts() -> None:
    frame = pd.DataFrame(
        {
            "source": ["okta", "okta", "okta"],
            "tenant": ["corp", "corp", None],
            "client_ip": ["203.0.113.66", "203.0.113.66", None],
            "user_agent": ["curl/8", "python-requests", None],
        }
    )
    keys = place_key(frame).tolist()
    assert keys[0] == "okta\x1fcorp\x1f203.0.113.66\x1fcurl/8"
    assert keys[2] == "okta\x1f\x1f\x1f"
    assert len(set(keys)) == 3


def test_events_take_the_novelty_of_their_place() -> None:
    places_ = pd.DataFrame(
        {
            "source": ["aws_cloudtrail", "aws_cloudtrail"],
            "tenant": ["1111", "1111"],
            "client_ip": ["10.0.0.5", "203.0.113.66"],
            "user_agent": ["aws-cli", "aws-cli"],
            "new": [False, True],
        }
    )
    events = places_.drop(columns="new").iloc[[1, 0, 1]].reset_index(drop=True)
    events.loc[3] = ["aws_cloudtrail", "9999", "203.0.113.66", "aws-cli"]  # another tenant
    assert from_new_place(events, places_).tolist() == [True, False, True, False]
