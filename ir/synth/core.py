"""The shared machinery of synthetic incidents: ground truth, lineage, ids, times, places, files.

Vendor modules (aws, okta, github, …) build on these: a `Chapter` of the incident
emits `Item`s tagged with the credential references each record makes, the
`Lineage` turns them into the ground truth, a `Haystack` makes background records
and a `Writer` delivers records in the vendor's export layout.
"""

from __future__ import annotations

import base64
import random
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import orjson

Record = dict[str, Any]
Ref = tuple[str, str]  # (credential id, relation)
# What an event acted on, as the record names it (contract §9): type, id, access, and
# whether the attacker did it (True) or the credential's own workload / a responder.
Touch = tuple[str, str, str | None, bool]
EventId = Callable[[Record], str]

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
SPAN = 10 * DAY
DEFAULT_START = datetime(2026, 9, 1, tzinfo=timezone.utc)
GZIP_LEVEL = 3  # twice as fast as 6, files ~15% larger
NEVER = 2**62

_ALNUM_ONLY = str.maketrans("+/", "Qz")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UUID_MASK = ((1 << 128) - 1) ^ (0xF << 76) ^ (0x3 << 62)
_UUID_BITS = (0x4 << 76) | (0x2 << 62)


# --- ground truth -------------------------------------------------------------------


@dataclass
class TruthCredential:
    parent: str | None
    relation_to_parent: str | None
    revoked: bool = False


@dataclass
class TruthEvent:
    source: str
    source_event_id: str
    credential: str
    relation: str
    after_revocation: bool = False
    after_ancestor_revocation: bool = False
    revoked_by: str | None = None  # a user-wide revocation (`entra_user:<UPN>`) that ended it


@dataclass
class TruthResource:
    """An object an event of the lineage acted on (`event_resources`), and who did it."""

    source: str
    source_event_id: str
    type: str
    id: str
    access: str | None
    attacker: bool


@dataclass
class Scenario:
    description: str
    credentials: dict[str, TruthCredential]
    events: list[TruthEvent] = field(default_factory=list)
    attacker_ips: list[str] = field(default_factory=list)
    decoy_event_ids: list[str] = field(default_factory=list)
    resources: list[TruthResource] = field(default_factory=list)


@dataclass
class GroundTruth:
    """`ground_truth.json`: per leaked root credential, its lineage and every event row.

    `events` is how many records the logs hold: the requested count, unless that
    is smaller than the incident itself.
    """

    seed: int
    events: int
    leaked_at: str
    scenarios: dict[str, Scenario]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroundTruth:
        scenarios = {
            root: Scenario(
                description=s["description"],
                credentials={k: TruthCredential(**c) for k, c in s["credentials"].items()},
                events=[TruthEvent(**e) for e in s["events"]],
                attacker_ips=list(s["attacker_ips"]),
                decoy_event_ids=list(s["decoy_event_ids"]),
                resources=[TruthResource(**r) for r in s.get("resources", [])],
            )
            for root, s in data["scenarios"].items()
        }
        return cls(data["seed"], data["events"], data["leaked_at"], scenarios)

    @classmethod
    def load(cls, path: Path) -> GroundTruth:
        return cls.from_json(orjson.loads(Path(path).read_bytes()))


class Lineage:
    """Which scenario each minted credential belongs to, and what emitted events did with it.

    `after_revocation` marks a use of a credential after it was itself revoked;
    `after_ancestor_revocation` a use after a credential it derives from was
    revoked: a session key outliving its deactivated parent, which is what a
    responder must still chase.
    """

    def __init__(self, event_ids: dict[str, EventId]) -> None:
        self.event_ids = event_ids  # source -> the record's source_event_id
        self.scenarios: dict[str, Scenario] = {}
        self.owner: dict[str, str] = {}
        self.times: dict[str, list[int]] = {}  # root -> time (ms) of each of its event rows
        self.holdings: dict[str, list[str]] = defaultdict(list)  # principal -> its credentials
        self.first_seen: dict[str, int] = {}

    def root(self, credential: str, description: str, attacker_ips: list[str]) -> None:
        self.scenarios[credential] = Scenario(
            description, {credential: TruthCredential(None, None)}, attacker_ips=attacker_ips
        )
        self.owner[credential] = credential
        self.times[credential] = []

    def mint(self, credential: str, parent: str, relation: str) -> None:
        root = self.owner.get(parent)
        if root is not None:
            self.owner[credential] = root
            self.scenarios[root].credentials[credential] = TruthCredential(parent, relation)

    def hold(self, credential: str, principal: str) -> None:
        """`credential` is a session or token of `principal` (`entra_user:<UPN>`), which a
        user-wide revocation of that principal ends if it was issued before (contract: issue 5)."""
        self.holdings[principal].append(credential)

    def observe(self, item: Item) -> None:
        event_id = self.event_ids[item.source](item.record)
        rows = {root: len(scenario.events) for root, scenario in self.scenarios.items()}
        self._rows(item, event_id)
        for root, scenario in self.scenarios.items():  # the objects a lineage's event acted on
            if len(scenario.events) > rows[root]:
                scenario.resources.extend(
                    TruthResource(item.source, event_id, *touch) for touch in item.touched
                )
                break
        if item.decoy_of is not None:
            self.scenarios[item.decoy_of].decoy_event_ids.append(event_id)

    def _rows(self, item: Item, event_id: str) -> None:
        """The lineage rows of one emitted event."""
        for credential, relation in item.refs:
            root = self.owner.get(credential)
            if root is not None:
                self.first_seen.setdefault(credential, item.ms)
                self._row(root, TruthEvent(item.source, event_id, credential, relation), item.ms)
            elif relation == "revoked":
                for held in self.holdings.get(credential, ()):
                    owner = self.owner.get(held)
                    if owner is not None and self.first_seen.get(held, NEVER) < item.ms:
                        row = TruthEvent(
                            item.source, event_id, held, relation, revoked_by=credential
                        )
                        self._row(owner, row, item.ms)

    def _row(self, root: str, row: TruthEvent, ms: int) -> None:
        self.scenarios[root].events.append(row)
        self.times[root].append(ms)

    def finish(self) -> dict[str, Scenario]:
        for root, scenario in self.scenarios.items():
            rows = list(zip(scenario.events, self.times[root], strict=True))
            revoked_at: dict[str, int] = {}
            for row, ms in rows:
                if row.relation == "revoked":
                    revoked_at.setdefault(row.credential, ms)
            for credential, info in scenario.credentials.items():
                info.revoked = credential in revoked_at
            for row, ms in rows:
                ancestors = list(_ancestry(scenario, row.credential))[1:]
                cutoff = min((revoked_at.get(c, NEVER) for c in ancestors), default=NEVER)
                row.after_revocation = row.relation == "used" and ms > revoked_at.get(
                    row.credential, NEVER
                )
                row.after_ancestor_revocation = row.relation == "used" and ms > cutoff
        return self.scenarios


def _ancestry(scenario: Scenario, credential: str) -> Iterator[str]:
    current: str | None = credential
    while current is not None:
        yield current
        current = scenario.credentials[current].parent


class Item(NamedTuple):
    """One emitted event: when, which source, the vendor record, what it did with credentials."""

    ms: int
    source: str
    record: Record
    refs: tuple[Ref, ...] = ()
    decoy_of: str | None = None
    touched: tuple[Touch, ...] = ()


# --- identifiers and times ----------------------------------------------------------


class Ids:
    """Identifiers in each vendor's shape, all drawn from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def bytes(self, count: int) -> bytes:
        return self.rng.getrandbits(count * 8).to_bytes(count, "big")

    def b64(self, count: int) -> str:
        """`count` characters of [A-Za-z0-9+/]; base64 of random bytes is faster than choices()."""
        return base64.b64encode(self.bytes((count * 3 + 3) // 4)).decode()[:count]

    def alnum(self, count: int) -> str:
        return self.b64(count).translate(_ALNUM_ONLY)

    def base32(self, count: int) -> str:
        """[A-Z2-7]: the alphabet of AWS key and unique ids."""
        return base64.b32encode(self.bytes((count * 5 + 7) // 8)).decode()[:count]

    def uuid(self) -> str:
        h = f"{(self.rng.getrandbits(128) & _UUID_MASK) | _UUID_BITS:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def aws_key(self, prefix: str) -> str:
        return prefix + self.base32(16)

    def aws_unique_id(self, prefix: str) -> str:
        return prefix + self.base32(17)

    def session_token(self) -> str:
        return "IQoJb3JpZ2luX2VjE" + self.b64(160)

    def okta_id(self, prefix: str) -> str:
        return prefix + self.alnum(17)

    def okta_session(self, prefix: str = "102") -> str:
        return prefix + self.alnum(22)

    def doc_id(self) -> str:
        return base64.urlsafe_b64encode(self.rng.getrandbits(128).to_bytes(16, "big")).decode()[:22]

    def digest(self) -> str:
        """A stand-in `hashed_token` for a token whose raw value nobody needs."""
        return base64.b64encode(self.rng.getrandbits(256).to_bytes(32, "big")).decode()

    def number(self, digits: int) -> int:
        return self.rng.randrange(10 ** (digits - 1), 10**digits)


def iso_seconds(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def iso_millis(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


# --- places and clients -------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a request comes from, with what Okta and GitHub log about it."""

    ip: str
    city: str | None
    state: str | None
    country: str
    country_code: str
    postal: str | None
    lat: float
    lon: float
    asn: int
    as_org: str
    isp: str
    domain: str | None = None
    proxy: bool = False

    def at(self, ip: str) -> Place:
        return replace(self, ip=ip)

    @cached_property
    def okta_geo(self) -> Record:
        return {
            "city": self.city,
            "state": self.state,
            "country": self.country,
            "postalCode": self.postal,
            "geolocation": {"lat": self.lat, "lon": self.lon},
        }

    @cached_property
    def okta_security(self) -> Record:
        return {
            "asNumber": self.asn,
            "asOrg": self.as_org,
            "isp": self.isp,
            "domain": self.domain,
            "isProxy": self.proxy,
        }

    @cached_property
    def okta_ip_chain(self) -> list[Record]:
        return [
            {"ip": self.ip, "geographicalContext": self.okta_geo, "version": "V4", "source": None}
        ]

    @cached_property
    def github_location(self) -> Record:
        return {"country_code": self.country_code}


class Agent(NamedTuple):
    raw: str
    os: str
    browser: str
    device: str = "Computer"

    @property
    def okta(self) -> Record:
        return {"rawUserAgent": self.raw, "os": self.os, "browser": self.browser}


CORP = Place(
    "198.51.100.20", "San Francisco", "California", "United States", "US", "94107",
    37.7697, -122.3933, 7018, "AT&T Services, Inc.", "AT&T Services", "att.net",
)  # fmt: skip
CLOUD = Place(
    "192.0.2.10", "Ashburn", "Virginia", "United States", "US", "20147",
    39.0438, -77.4874, 14618, "Amazon.com, Inc.", "Amazon.com", "amazonaws.com",
)  # fmt: skip
RUNNER = Place(
    "192.0.2.60", "Des Moines", "Iowa", "United States", "US", "50309",
    41.5868, -93.625, 8075, "Microsoft Corporation", "Microsoft Azure", "microsoft.com",
)  # fmt: skip
ATTACKER = Place(
    "203.0.113.66", "Amsterdam", "North Holland", "Netherlands", "NL", "1012",
    52.3740, 4.8897, 14061, "DigitalOcean, LLC", "DigitalOcean", "digitalocean.com",
)  # fmt: skip
VPS = Place(
    "198.18.7.23", "Roubaix", "Hauts-de-France", "France", "FR", "59100",
    50.6942, 3.1746, 16276, "OVH SAS", "OVH SAS", "ovh.net",
)  # fmt: skip
BACKDOOR_HOST = Place(
    "198.18.9.41", "Frankfurt am Main", "Hesse", "Germany", "DE", "60313",
    50.1109, 8.6821, 20473, "The Constant Company, LLC", "Vultr", "vultr.com",
)  # fmt: skip
PROXY = Place(
    "198.18.44.7", "Bucharest", "Bucharest", "Romania", "RO", "010011",
    44.4268, 26.1025, 9009, "M247 Europe SRL", "M247", "m247.com", proxy=True,
)  # fmt: skip
HOMES = (
    ("Austin", "Texas", "78701", 30.2672, -97.7431, 7922, "Comcast Cable Communications, LLC", "Comcast"),
    ("Seattle", "Washington", "98101", 47.6062, -122.3321, 20115, "Charter Communications", "Spectrum"),
    ("Denver", "Colorado", "80202", 39.7392, -104.9903, 7922, "Comcast Cable Communications, LLC", "Comcast"),
    ("Brooklyn", "New York", "11201", 40.6943, -73.9903, 701, "Verizon Business", "Verizon Fios"),
    ("Chicago", "Illinois", "60601", 41.8858, -87.6181, 7018, "AT&T Services, Inc.", "AT&T"),
    ("Oakland", "California", "94612", 37.8044, -122.2712, 7922, "Comcast Cable Communications, LLC", "Comcast"),
)  # fmt: skip

BROWSERS = (
    Agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36", "Mac OS X", "CHROME"),
    Agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36", "Windows 10", "CHROME"),
    Agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:130.0) Gecko/20100101 Firefox/130.0", "Mac OS X", "FIREFOX"),
    Agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15", "Mac OS X", "SAFARI"),
)  # fmt: skip
PHONE = Agent(
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "iOS", "SAFARI", "Mobile",
)  # fmt: skip

PYTHON_REQUESTS = "python-requests/2.32.3"

FIRST = (
    "alex", "maria", "james", "priya", "li", "sam", "noah", "olivia", "omar", "sofia",
    "lucas", "amara", "kenji", "fatima", "diego", "hannah", "ivan", "zoe", "mateo", "aisha",
    "ben", "chloe", "raj", "nina", "tom", "yuki", "leo", "mia", "kofi", "ana",
)  # fmt: skip
LAST = (
    "nguyen", "smith", "garcia", "patel", "kim", "johnson", "okafor", "rossi", "silva",
    "muller", "cohen", "tanaka", "brown", "lopez", "singh", "wang", "martin", "dubois",
    "khan", "novak",
)  # fmt: skip
DOMAIN = "corp.example"


def home_place(rng: random.Random, index: int) -> Place:
    city, state, postal, lat, lon, asn, org, isp = HOMES[index % len(HOMES)]
    ip = f"100.64.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    return Place(ip, city, state, "United States", "US", postal, lat, lon, asn, org, isp)


# --- the incident -------------------------------------------------------------------


class Story:
    """The incident: a fixed, seed-shaped script of legitimate use, attack, decoys, response.

    Each chapter (one per vendor) registers its root credential first; minting a
    credential records its parent, and every event carries the references it
    makes, so the ground truth follows from what is emitted.
    """

    def __init__(self, rng: random.Random, start: int, event_ids: dict[str, EventId]) -> None:
        self.rng = rng
        self.start = start
        self.lineage = Lineage(event_ids)
        self.items: list[Item] = []
        self.root = ""
        self.leaked_at = start + 3 * DAY + 14 * HOUR + rng.randrange(60) * MINUTE
        self.secrets: dict[str, str] = {}  # file name -> the raw secret a responder was handed


class Chapter:
    """One vendor's part of the incident, drawing from `rng` (the story's, or its own).

    `decoy=True` marks an event that looks related but must stay out of the
    current root's trace.
    """

    def __init__(self, story: Story, rng: random.Random) -> None:
        self.story = story
        self.rng = rng
        self.ids = Ids(rng)
        self.start = story.start
        self.leaked_at = story.leaked_at
        self.lineage = story.lineage

    @property
    def root(self) -> str:
        return self.story.root

    def run(self) -> None:
        raise NotImplementedError

    def begin(self, root: str, description: str, attacker_ips: list[str]) -> None:
        self.story.root = root
        self.lineage.root(root, description, attacker_ips)

    def emit(
        self,
        source: str,
        ms: int,
        record: Record,
        refs: Sequence[Ref],
        decoy: bool,
        touched: Sequence[Touch] = (),
    ) -> None:
        """`touched`: what the record names as acted on (the ground truth of impact)."""
        decoy_of = self.story.root if decoy else None
        self.story.items.append(Item(ms, source, record, tuple(refs), decoy_of, tuple(touched)))

    def by_attacker(self, ip: str) -> bool:
        """Whether a request from `ip` is the attacker's (the story's attacker addresses)."""
        return ip in self.lineage.scenarios[self.root].attacker_ips

    def later(self, ms: int, low: int = 4, high: int = 40) -> int:
        """A few seconds on: the pace of someone typing commands."""
        return ms + self.rng.randrange(low * SECOND, high * SECOND)


# --- background and delivery --------------------------------------------------------


class Company:
    """The people of the background, shared by every vendor's haystack."""

    def __init__(self, rng: random.Random, people: int, start: int) -> None:
        self.rng = rng
        self.start = start - HOUR  # sessions already running when the logs begin
        self.ids = Ids(rng)
        self.names = self._names(people)
        self.places = [
            CORP.at(f"198.51.100.{40 + i % 200}") if i % 3 else home_place(rng, i)
            for i in range(people)
        ]
        self.agents = [BROWSERS[i % len(BROWSERS)] for i in range(people)]

    def _names(self, people: int) -> list[str]:
        base = [f"{first}.{last}" for last in LAST for first in FIRST]
        self.rng.shuffle(base)
        return [
            base[i % len(base)] + (str(i // len(base)) if i >= len(base) else "")
            for i in range(people)
        ]


class Haystack(Protocol):
    """Background records of one vendor: one call, one record, state moving forward in time."""

    def record(self, source: str, ms: int) -> Record: ...


class Writer(Protocol):
    """Delivers one vendor's records as its export does (`window` per delivery window)."""

    def window(self, start: int, records: dict[str, list[Record]]) -> None: ...

    def close(self) -> None: ...


def gzip_bytes(data: bytes) -> bytes:
    """gzip without a timestamp or file name, so equal content gives equal bytes."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def write_gzip(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip_bytes(body))


# --- the registry entry -------------------------------------------------------------


@dataclass(frozen=True)
class Vendor:
    """One vendor's part in a synthetic incident: what `generate` needs to know of it.

    `world` holds what the chapter, the haystack and the writer share (an AWS
    account, a tenant), drawn before the incident. `shares` are the vendor's
    sources' parts of the background. A vendor draws from generators of its own,
    so adding one leaves the other incidents unchanged; aws, okta and github draw
    from the two shared ones (story, background), as they did before vendors
    were modules, so their records stayed the same.
    """

    name: str
    shares: dict[str, float]
    event_ids: dict[str, EventId]
    chapter: Callable[[Story, random.Random, Any], Chapter]
    haystack: Callable[[Company, random.Random, Any], Haystack]
    writer: Callable[[Path, Ids, Any], Writer]
    world: Callable[[random.Random], Any] = lambda rng: None
    shared_generators: bool = False
