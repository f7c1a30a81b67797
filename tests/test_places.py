"""Places and networks: the keys the trace, timeline, report, hunt and coverage share."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ir import places
from ir.places import define_network_macros, from_new_place, network, place_key


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


# --- the SQL twin: ir_network(ip, asn) names the same network as network(ip, asn) ---------

HEXTET = st.integers(0, 0xFFFF).map(lambda n: f"{n:x}")
ADDRESSES = st.one_of(
    st.ip_addresses().map(str),  # every IPv4 and IPv6 address, as Python writes it
    st.ip_addresses(v=6).map(lambda a: a.exploded.upper()),  # uncompressed, upper case
    st.ip_addresses(v=4).map(lambda a: f"::ffff:{a}"),  # IPv4-mapped, dotted tail
    st.tuples(st.lists(HEXTET, max_size=8), st.lists(HEXTET, max_size=8)).map(
        lambda parts: ":".join(parts[0]) + "::" + ":".join(parts[1])  # any '::' split, valid or not
    ),
    st.text(alphabet="0123456789abcdefABCDEF:.%/g", max_size=24),  # near-addresses
    st.lists(st.sampled_from(["0", "00", "01", "9", "99", "199", "255", "256"]), max_size=5).map(
        ".".join  # dotted quads with leading zeros, out-of-range octets, too few or many parts
    ),
)
PADDING = st.sampled_from(["", " ", "\t", "\u3000", "\n\x85"])
# ASNs as logs write them: numbers, AS-prefixed, any case, padded, blank. (Non-ASCII letters
# are out: Python's upper() and DuckDB's disagree on some, e.g. ß, and no ASN holds one.)
ASNS = st.one_of(
    st.none(),
    st.integers(0, 2**32).map(str),
    st.text(alphabet="ASas0123456789 \t", max_size=8),
)


@pytest.fixture(scope="module")
def sql_network() -> Callable[[list[tuple[str | None, str | None]]], list[str | None]]:
    connection = duckdb.connect()
    define_network_macros(connection)

    def named(pairs: list[tuple[str | None, str | None]]) -> list[str | None]:
        row = connection.execute(
            "SELECT list_transform(?::STRUCT(ip VARCHAR, asn VARCHAR)[],"
            " lambda p: ir_network(p.ip, p.asn))",
            [[{"ip": ip, "asn": asn} for ip, asn in pairs]],
        ).fetchone()
        assert row is not None
        return list(row[0])

    return named


@pytest.mark.parametrize(
    ("ip", "asn"),
    [
        ("203.0.113.66", None),
        ("2001:db8:abcd:12:1::5", None),
        ("::ffff:198.51.100.7", None),
        ("::ffff:c633:6407", None),  # IPv4-mapped, hex tail
        ("fe80::1%eth0", None),
        ("0:5::1", None),  # a zero first hextet stays; the /48 compresses from the third
        ("::", None),
        ("1:2:3:4:5:6:1.2.3.4", None),
        ("1:2:3:4:5:6:7:1.2.3.4", None),  # one part too many
        ("1::2::3", None),
        ("01.2.3.4", None),  # leading zero: refused, as ipaddress refuses it
        ("\u3000198.51.100.7\n", None),  # padded with what str.strip() strips
        ("198.51.100.7", " as14061 "),
        ("198.51.100.7", "ASAS1"),  # one prefix removed, as removeprefix does
        ("salesforce.com", None),
        ("", "  "),
        (None, None),
    ],
)
def test_sql_network_names_the_same_network(
    sql_network: Callable[[list[tuple[str | None, str | None]]], list[str | None]],
    ip: str | None,
    asn: str | None,
) -> None:
    assert sql_network([(ip, asn)]) == [network(ip, asn)]


# Few examples of many inputs each: binding the macro costs ~0.1 s a query, running it nothing.
@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(st.tuples(PADDING, ADDRESSES, PADDING), ASNS), max_size=150))
def test_sql_network_agrees_with_network_on_any_input(
    sql_network: Callable[[list[tuple[str | None, str | None]]], list[str | None]],
    pairs: list[tuple[tuple[str, str, str], str | None]],
) -> None:
    inputs = [("".join(padded), asn) for padded, asn in pairs]
    assert sql_network(inputs) == [network(ip, asn) for ip, asn in inputs]


def test_sql_strip_is_pythons_strip() -> None:
    """The whitespace list in the macro is the one str.strip() uses, all of it."""
    assert set(places._WHITESPACE) == {c for c in map(chr, range(0x110000)) if c.isspace()}
