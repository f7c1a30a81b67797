"""Places: where a credential was used from, and whether that was new.

A place is (source, tenant, client IP, user agent). A place is `new` (contract §4)
when neither the traced credentials nor the same actor used its IP before the
exposure time. Networks widen an IP to what an organisation or a provider really
holds — IPv4 /24, IPv6 /48, or the ASN where the log carries one — since corporate
NAT pools and cloud egress rotate single addresses; the hunt and coverage judge
novelty by them. The trace computes places once; timeline and report read its result.

`NETWORK_MACROS` is `network()` again as DuckDB macros (`ir_network(ip, asn)`), for an
analysis that keys every event of a case at once inside one query (the hunt): the
same rules, so a network named in SQL is the network named here
(tests/test_places.py holds both to the same inputs).
"""

from __future__ import annotations

import ipaddress

import duckdb
import pandas as pd

from ir.errors import UsageError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

PLACE_KEY = ["source", "tenant", "client_ip", "user_agent"]
PLACE_COLUMNS = [
    "source",
    "tenant",
    "client_ip",
    "user_agent",
    "first_seen",
    "last_seen",
    "events",
    "new",
    "actors",
    "credentials",
    "country",
    "asn",
]
IPV4_PREFIX = 24
IPV6_PREFIX = 48
# What str.strip() strips: every character Python counts as whitespace.
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# An octet as `ipaddress` takes it: 0-255, ASCII digits, no leading zero.
_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}"
# `network()` step by step, after `ipaddress`: a dotted quad; else IPv6 split on ':', its
# IPv4 tail as two hextets, one '::' at most, expanded to 8 hextets of 1-4 hex digits;
# IPv4-mapped back to IPv4. `list_transform([x], lambda v: …)[1]` binds x once (a macro
# would otherwise repeat its argument's expression at every use).
NETWORK_MACROS = f"""
CREATE OR REPLACE TEMP MACRO ir_strip(s) AS trim(s, '{_WHITESPACE}');
CREATE OR REPLACE TEMP MACRO ir_ipv4_24(s) AS
    CASE WHEN regexp_full_match(s, '{_IPV4}') THEN regexp_extract(s, '^(.*)\\.', 1) || '.0/24' END;
CREATE OR REPLACE TEMP MACRO ir_ipv4_hextets(o) AS
    [printf('%x', o[1] * 256 + o[2]), printf('%x', o[3] * 256 + o[4])];
CREATE OR REPLACE TEMP MACRO ir_ipv6_parts(p) AS
    CASE WHEN len(p) < 3 THEN NULL
         WHEN NOT contains(p[-1], '.') THEN p
         WHEN regexp_full_match(p[-1], '{_IPV4}') THEN p[1:-2] || ir_ipv4_hextets(
             list_transform(string_split(p[-1], '.'), lambda o: TRY_CAST(o AS INTEGER)))
    END;
CREATE OR REPLACE TEMP MACRO ir_ipv6_fill(p, k, lead, trail) AS
    CASE WHEN (lead = 1 AND k <> 2) OR (trail = 1 AND len(p) - k <> 1)
              OR (k - 1 - lead) + (len(p) - k - trail) > 7 THEN NULL
         ELSE p[1 + lead : k - 1] || repeat(['0'], 8 - (k - 1 - lead) - (len(p) - k - trail))
              || p[k + 1 : len(p) - trail]
    END;
CREATE OR REPLACE TEMP MACRO ir_ipv6_expand(p, skips) AS
    CASE WHEN p IS NULL OR len(p) > 9 OR len(skips) > 1 THEN NULL
         WHEN len(skips) = 0 THEN CASE WHEN len(p) = 8 AND p[1] <> '' AND p[8] <> '' THEN p END
         ELSE ir_ipv6_fill(p, skips[1], CASE WHEN p[1] = '' THEN 1 ELSE 0 END,
                           CASE WHEN p[-1] = '' THEN 1 ELSE 0 END)
    END;
CREATE OR REPLACE TEMP MACRO ir_ipv6_numbers(h) AS
    CASE WHEN len(list_filter(h, lambda x: NOT regexp_full_match(x, '[0-9a-fA-F]{{1,4}}'))) = 0
         THEN list_transform(h, lambda x: TRY_CAST('0x' || x AS INTEGER)) END;
CREATE OR REPLACE TEMP MACRO ir_ipv6_network(h) AS
    CASE WHEN h[1:5] = [0, 0, 0, 0, 0] AND h[6] = 65535
         THEN printf('%d.%d.%d.0/24', h[7] >> 8, h[7] & 255, h[8] >> 8)
         ELSE array_to_string(list_transform(
                  h[1 : CASE WHEN h[3] <> 0 THEN 3 WHEN h[2] <> 0 THEN 2 WHEN h[1] <> 0 THEN 1 ELSE 0 END],
                  lambda x: printf('%x', x)), ':') || '::/48'
    END;
CREATE OR REPLACE TEMP MACRO ir_ipv6_48(s) AS ir_ipv6_network(list_transform(
    [list_transform([ir_ipv6_parts(string_split(s, ':'))],
                    lambda p: ir_ipv6_expand(p, list_filter(range(2, len(p)), lambda i: p[i] = '')))[1]],
    lambda h: ir_ipv6_numbers(h))[1]);
CREATE OR REPLACE TEMP MACRO ir_address_network(s) AS coalesce(ir_ipv4_24(s), ir_ipv6_48(s));
CREATE OR REPLACE TEMP MACRO ir_asn_network(a) AS
    'AS' || CASE WHEN starts_with(a, 'AS') THEN substr(a, 3) ELSE a END;
CREATE OR REPLACE TEMP MACRO ir_network(ip, asn) AS
    CASE WHEN ir_strip(CAST(asn AS VARCHAR)) <> ''
         THEN ir_asn_network(upper(ir_strip(CAST(asn AS VARCHAR))))
         ELSE ir_address_network(split_part(ir_strip(CAST(ip AS VARCHAR)), '%', 1))
    END;
"""
# By the client_ip index; actor and time are checked on the rows found.
_SEEN_SQL = """
SELECT client_ip, actor, min(time) AS first_time FROM events
WHERE client_ip IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL
"""


def place_key(frame: pd.DataFrame) -> pd.Series:
    """One comparable key per (source, tenant, client_ip, user_agent); a place may lack an IP."""
    if frame.empty:
        return pd.Series(index=frame.index, dtype=object)
    parts = [frame[c].astype(object).where(frame[c].notna(), "").astype(str) for c in PLACE_KEY]
    return parts[0].str.cat(parts[1:], sep="\x1f")


def network(ip: str | None, asn: str | None = None) -> str | None:
    """The network an address belongs to: `AS<n>` where the log names the ASN, else the
    IPv4 /24 or IPv6 /48 (an IPv4-mapped IPv6 address counts as IPv4); None for no IP."""
    if asn is not None and str(asn).strip():
        number = str(asn).strip().upper().removeprefix("AS")
        return f"AS{number}"
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(str(ip).strip().split("%")[0])
    except ValueError:
        return None  # a hostname or a vendor placeholder: no network to judge by
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def parse_network(text: str) -> Network:
    """An address or a CIDR network as the user typed it (host bits allowed: 203.0.113.7/24
    is 203.0.113.0/24); anything else is a UsageError naming it."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise UsageError(
            f"not an IP address or network: {text!r} (write e.g. 203.0.113.66,"
            " 203.0.113.0/24 or 2001:db8::/48)"
        ) from None


def addresses_in(addresses: list[str], network: Network) -> list[str]:
    """The logged addresses (as logged) inside `network`; an IPv4-mapped IPv6 address
    counts as IPv4, a hostname or placeholder as none."""
    inside = []
    for text in addresses:
        try:
            address = ipaddress.ip_address(str(text).strip().split("%")[0])
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address.version == network.version and address in network:
            inside.append(text)
    return inside


def define_network_macros(connection: duckdb.DuckDBPyConnection) -> None:
    """Make `ir_network(ip, asn)` (and its helpers) callable on this connection; temporary
    macros, so a read-only case takes them too."""
    connection.execute(NETWORK_MACROS)


def places(
    connection: duckdb.DuckDBPyConnection, refs: pd.DataFrame, exposure: pd.Timestamp | None
) -> pd.DataFrame:
    """The traced refs grouped by place, each marked `new` or not (contract §4)."""
    if refs.empty:
        return pd.DataFrame(columns=PLACE_COLUMNS)
    events = refs.drop_duplicates("event_key")
    grouped = (
        events.groupby(PLACE_KEY, dropna=False)
        .agg(
            first_seen=("time", "min"),
            last_seen=("time", "max"),
            events=("event_key", "nunique"),
            actors=("actor", lambda s: sorted(s.dropna().unique().tolist())),
            country=("country", _most_common),
            asn=("asn", _most_common),
        )
        .reset_index()
    )
    credentials = refs.groupby(PLACE_KEY, dropna=False)["credential"].agg(lambda s: sorted(set(s)))
    index = pd.MultiIndex.from_frame(grouped[PLACE_KEY])
    grouped["credentials"] = credentials.reindex(index).to_numpy()
    grouped["new"] = _new(connection, grouped, refs, exposure)
    return grouped.sort_values(["first_seen", "source"]).reset_index(drop=True)[PLACE_COLUMNS]


def from_new_place(events: pd.DataFrame, places_: pd.DataFrame) -> pd.Series:
    """Per event row: whether it came from a place marked `new`."""
    new = dict(zip(place_key(places_), places_["new"].astype(bool), strict=True))
    return place_key(events).map(new).fillna(False).astype(bool)


def _most_common(values: pd.Series) -> str | None:
    values = values.dropna()
    return None if values.empty else str(values.mode().iloc[0])


def _new(
    connection: duckdb.DuckDBPyConnection,
    grouped: pd.DataFrame,
    refs: pd.DataFrame,
    exposure: pd.Timestamp | None,
) -> list[bool]:
    """New: an IP that neither the traced credentials nor the place's actors used before exposure."""
    if exposure is None:
        return [False] * len(grouped)
    traced_before = set(refs.loc[refs["time"] < exposure, "client_ip"].dropna())
    pairs = [
        (ip, actor)
        for ip, actors in zip(grouped["client_ip"], grouped["actors"], strict=True)
        if ip
        for actor in actors
    ]
    actor_before = set()
    if pairs:
        ips = sorted({ip for ip, _ in pairs if isinstance(ip, str)})
        seen = connection.execute(_SEEN_SQL, [ips]).fetchall()
        actor_before = {(ip, actor) for ip, actor, first in seen if first < exposure} & set(pairs)
    return [
        bool(ip) and ip not in traced_before and not any((ip, a) in actor_before for a in actors)
        for ip, actors in zip(grouped["client_ip"], grouped["actors"], strict=True)
    ]
