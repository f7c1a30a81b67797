"""Synthetic token-leak incidents across CloudTrail, Okta and GitHub, with their ground truth.

`generate(out, events, seed)` writes the log files a responder receives (CloudTrail
S3 delivery files, Okta `/api/v1/logs` pages, GitHub audit-log stream files), the
two leaked secrets, and `ground_truth.json`: which credentials each leak reaches
and which events reference them, per contract §1/§4.

The ground truth is recorded while the files are written: every incident event
carries the credential references it makes and every minted credential names
its parent, so the truth describes what was emitted, not a hand-written list.
Output is streamed per time window (memory is bounded by one window, not by
`events`), and a seed gives byte-identical files (gzip without mtime or name).

Vendor shapes follow the shared conformance samples and public records:
CloudTrail `{"Records": [...]}` files named
`<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16 chars>.json.gz` with
`tlsDetails`, `eventCategory`, `managementEvent`; S3 data events bracket the user
agent; Okta LogEvent with `authenticationContext.externalSessionId`, `Token`
targets and `transaction.detail.requestApiTokenId`; GitHub streaming records with
`hashed_token` (base64 SHA-256 of the raw token), `programmatic_access_type`,
and `transport_protocol_name` on git events.

`sample_logs/` is `generate(Path("sample_logs"), events=2000, seed=7)` (into an
empty folder; tests check it still matches). Ingest `sample_logs/logs`: the
token files and the ground truth beside it are not logs.
"""

from __future__ import annotations

import base64
import hashlib
import random
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import orjson

Record = dict[str, Any]
Ref = tuple[str, str]  # (credential id, relation)

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
SPAN = 10 * DAY
DEFAULT_START = datetime(2026, 9, 1, tzinfo=timezone.utc)
SOURCES = ("aws_cloudtrail", "okta", "github")
SHARES = {"aws_cloudtrail": 0.55, "okta": 0.25}  # github takes the rest
WINDOW_MINUTES = (5, 10, 15, 30, 60, 120, 240, 360, 720)
RECORDS_PER_FILE = 50  # widen the delivery window until a CloudTrail file holds about this many
OKTA_PAGE_SIZE = 1000  # the System Log API's largest `limit`
GZIP_LEVEL = 3  # twice as fast as 6, files ~15% larger
NEVER = 2**62
IRIGNORE = "# Not evidence: the answers and the leaked secrets of this synthetic incident.\nground_truth.json\nleaked_*.txt\n"
EVENT_ID = {"aws_cloudtrail": "eventID", "okta": "uuid", "github": "_document_id"}

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


@dataclass
class Scenario:
    description: str
    credentials: dict[str, TruthCredential]
    events: list[TruthEvent] = field(default_factory=list)
    attacker_ips: list[str] = field(default_factory=list)
    decoy_event_ids: list[str] = field(default_factory=list)


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

    def __init__(self) -> None:
        self.scenarios: dict[str, Scenario] = {}
        self.owner: dict[str, str] = {}
        self.times: dict[str, list[int]] = {}  # root -> time (ms) of each of its event rows

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

    def observe(self, item: Item) -> None:
        event_id = item.record[EVENT_ID[item.source]]
        for credential, relation in item.refs:
            root = self.owner.get(credential)
            if root is not None:
                row = TruthEvent(item.source, event_id, credential, relation)
                self.scenarios[root].events.append(row)
                self.times[root].append(item.ms)
        if item.decoy_of is not None:
            self.scenarios[item.decoy_of].decoy_event_ids.append(event_id)

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


def github_hashed_token(raw: str) -> str:
    """What GitHub logs for a token: standard base64 (padded) of its binary SHA-256."""
    return base64.b64encode(hashlib.sha256(raw.encode()).digest()).decode()


def iso_seconds(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def iso_millis(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def aws_date(ms: int) -> str:
    """CloudTrail's `expiration` / `createDate` form: 'Sep 5, 2026 3:52:00 PM'."""
    t = time.gmtime(ms // 1000)
    hour = t.tm_hour % 12 or 12
    half = "AM" if t.tm_hour < 12 else "PM"
    return f"{MONTHS[t.tm_mon - 1]} {t.tm_mday}, {t.tm_year} {hour}:{t.tm_min:02d}:{t.tm_sec:02d} {half}"


def _epoch_ms(moment: datetime) -> int:
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
OKTA_SDK = Agent(
    "okta-sdk-python/2.9.5 python/3.11.6 Linux/6.1.0-18-amd64", "Linux", "UNKNOWN", "Unknown"
)
OKTA_WORKFLOWS = Agent("Okta-Integrations", "Unknown", "UNKNOWN", "Unknown")

UA_CI = (
    "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.15.0-1064-aws md/arch#x86_64 "
    "lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.144"
)
UA_ATTACKER = (
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.6.9-amd64 md/arch#x86_64 "
    "lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe "
    "md/distrib#kali.2024 md/prompt#off"
)
UA_BACKDOOR = (
    "Boto3/1.28.57 md/Botocore#1.31.57 ua/2.0 os/linux#6.1.0-13-cloud-amd64 md/arch#x86_64 "
    "lang/python#3.10.12 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.57"
)
UA_ADMIN = (
    "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/macos#23.6.0 md/arch#arm64 lang/python#3.11.9 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off"
)
AWS_AGENTS = (
    UA_ADMIN,
    "aws-cli/2.16.4 md/awscrt#0.19.19 ua/2.0 os/macos#23.5.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off",
    "aws-cli/2.15.57 md/awscrt#0.19.19 ua/2.0 os/linux#6.8.0-40-generic md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off",
    "Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.64.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.4 ua/2.1 os/macos lang/go#1.22.6 md/GOOS#darwin md/GOARCH#arm64 api/iam#1.34.3",
)  # fmt: skip
UA_LAMBDA = (
    "Boto3/1.34.34 md/Botocore#1.34.34 ua/2.0 os/linux#5.10.219-229.866.amzn2.x86_64 "
    "md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 "
    "cfg/retry-mode#legacy Botocore/1.34.34"
)
UA_JAVA = (
    "aws-sdk-java/2.25.60 Linux/5.10.217-205.860.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS "
    "Java/17.0.11 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy"
)
UA_GO = "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.3 md/GOOS#linux md/GOARCH#amd64 api/s3#1.53.1"
UA_GIT = ("git/2.45.2", "git/2.43.0", "git/2.39.3 (Apple Git-146)", "go-git/5.x")
UA_OCTOKIT = "octokit-rest.js/20.1.1 octokit-core.js/5.2.0 Node.js/20.15.1 (linux; x64)"
UA_GH_CLI = "GitHub CLI 2.55.0"

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


# --- AWS CloudTrail -----------------------------------------------------------------


@dataclass
class AwsEnv:
    """One AWS account's resources, shared by the incident and the background."""

    account: str
    buckets: tuple[str, ...] = (
        "corp-data-lake-prod",
        "corp-ci-artifacts",
        "corp-backups",
        "corp-logs-archive",
        "corp-analytics-exports",
        "corp-customer-uploads",
    )
    prefixes: tuple[str, ...] = ("raw", "curated", "exports", "builds", "snapshots", "tmp")
    users: tuple[str, ...] = ("ci-deployer", "backup-svc", "analytics-etl", "terraform")
    roles: dict[str, str] = field(default_factory=dict)  # role name -> AROA id
    secrets: tuple[str, ...] = ("prod/db/master", "prod/stripe/api", "prod/sendgrid", "staging/db")
    parameters: tuple[str, ...] = ("/app/prod/db_host", "/app/prod/feature_flags", "/ci/deploy_env")
    functions: tuple[str, ...] = (
        "image-resizer",
        "invoice-export",
        "slack-notifier",
        "etl-trigger",
    )
    tables: tuple[str, ...] = ("orders", "sessions", "feature-flags", "audit-events")
    stacks: tuple[str, ...] = ("web-prod", "worker-prod", "network-base", "data-platform")
    clusters: tuple[str, ...] = ("prod", "staging")
    services: tuple[str, ...] = ("web", "worker", "scheduler")
    aliases: tuple[str, ...] = ("alias/app-prod", "alias/backups", "alias/secrets")

    @property
    def role_names(self) -> list[str]:
        return list(self.roles)

    @classmethod
    def create(cls, ids: Ids) -> AwsEnv:
        roles = ("Admin", "DataReader", "web-app", "batch-worker", "lambda-exec", "deploy")
        env = cls(account=str(ids.number(12)))
        env.roles = {name: ids.aws_unique_id("AROA") for name in roles}
        return env

    def role_arn(self, role: str) -> str:
        return f"arn:aws:iam::{self.account}:role/{role}"

    def object_key(self, rng: random.Random) -> str:
        ext = rng.choice(("json", "parquet", "csv.gz", "tar.gz"))
        return f"{rng.choice(self.prefixes)}/{rng.randrange(2024, 2027)}/{rng.randrange(10**6):06d}.{ext}"


@dataclass
class AwsActor:
    """A CloudTrail caller: the userIdentity it logs, where it calls from, with what."""

    identity: Record
    ip: str
    ua: str
    region: str = "us-east-1"
    role: str | None = None  # role sessions that services renew
    session: str | None = None

    @property
    def key(self) -> str | None:
        return self.identity.get("accessKeyId")


Build = Callable[[random.Random, AwsEnv], Record | None]


def _no_request(rng: random.Random, env: AwsEnv) -> Record | None:
    return None


@dataclass(frozen=True)
class AwsAction:
    service: str
    name: str
    read_only: bool
    scope: str  # where CloudTrail logs it: "global" (us-east-1), "data" event, or "region"
    build: Build = _no_request

    @property
    def source(self) -> str:
        return f"{self.service}.amazonaws.com"

    @property
    def data(self) -> bool:
        return self.scope == "data"


def s3_object(bucket: str, key: str) -> Record:
    return {"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com", "key": key}


def _s3_object(rng: random.Random, env: AwsEnv) -> Record:
    return s3_object(rng.choice(env.buckets), env.object_key(rng))


def _s3_list(rng: random.Random, env: AwsEnv) -> Record:
    bucket = rng.choice(env.buckets)
    return {
        "list-type": "2",
        "bucketName": bucket,
        "encoding-type": "url",
        "prefix": f"{rng.choice(env.prefixes)}/",
        "Host": f"{bucket}.s3.amazonaws.com",
    }


def _pick(attribute: str, key: str, **extra: Any) -> Build:
    return lambda rng, env: {key: rng.choice(getattr(env, attribute)), **extra}


def _fixed(request: Record) -> Build:
    return lambda rng, env: request


def _invoke(rng: random.Random, env: AwsEnv) -> Record:
    name = rng.choice(env.functions)
    return {"functionName": f"arn:aws:lambda:us-east-1:{env.account}:function:{name}"}


def _log_stream(rng: random.Random, env: AwsEnv) -> Record:
    name = rng.choice(env.functions)
    stream = f"2026/09/0{rng.randrange(1, 10)}/[$LATEST]{rng.getrandbits(128):032x}"
    return {"logGroupName": f"/aws/lambda/{name}", "logStreamName": stream}


def _ecs(rng: random.Random, env: AwsEnv) -> Record:
    return {"cluster": rng.choice(env.clusters), "services": [rng.choice(env.services)]}


def _deploy(rng: random.Random, env: AwsEnv) -> Record:
    return {"cluster": "prod", "service": rng.choice(env.services), "forceNewDeployment": True}


def _catalog(*actions: AwsAction) -> dict[str, AwsAction]:
    return {action.name: action for action in actions}


# fmt: off
ACTIONS = _catalog(
    AwsAction("sts", "GetCallerIdentity", True, "global"),
    AwsAction("sts", "AssumeRole", True, "global"),
    AwsAction("s3", "ListBuckets", True, "global", _fixed({"Host": "s3.amazonaws.com"})),
    AwsAction("s3", "GetObject", True, "data", _s3_object),
    AwsAction("s3", "HeadObject", True, "data", _s3_object),
    AwsAction("s3", "PutObject", False, "data", _s3_object),
    AwsAction("s3", "ListObjects", True, "data", _s3_list),
    AwsAction("ec2", "DescribeInstances", True, "region", _fixed({"instancesSet": {}, "filterSet": {}})),
    AwsAction("ec2", "DescribeSecurityGroups", True, "region", _fixed({"securityGroupSet": {}, "filterSet": {}})),
    AwsAction("iam", "ListUsers", True, "global"),
    AwsAction("iam", "ListRoles", True, "global"),
    AwsAction("iam", "GetUser", True, "global", _pick("users", "userName")),
    AwsAction("iam", "ListAccessKeys", True, "global", _pick("users", "userName")),
    AwsAction("iam", "GetRole", True, "global", _pick("role_names", "roleName")),
    AwsAction("iam", "CreateAccessKey", False, "global"),
    AwsAction("iam", "UpdateAccessKey", False, "global"),
    AwsAction("iam", "DeleteAccessKey", False, "global"),
    AwsAction("kms", "Decrypt", True, "region", _fixed({"encryptionAlgorithm": "SYMMETRIC_DEFAULT"})),
    AwsAction("kms", "GenerateDataKey", True, "region", _pick("aliases", "keyId", keySpec="AES_256")),
    AwsAction("secretsmanager", "GetSecretValue", True, "region", _pick("secrets", "secretId")),
    AwsAction("secretsmanager", "ListSecrets", True, "region"),
    AwsAction("ssm", "GetParameter", True, "region", _pick("parameters", "name", withDecryption=True)),
    AwsAction("lambda", "Invoke", False, "data", _invoke),
    AwsAction("dynamodb", "DescribeTable", True, "region", _pick("tables", "tableName")),
    AwsAction("logs", "CreateLogStream", False, "region", _log_stream),
    AwsAction("cloudformation", "DescribeStacks", True, "region", _pick("stacks", "stackName")),
    AwsAction("ecr", "GetAuthorizationToken", True, "region"),
    AwsAction("ecs", "DescribeServices", True, "region", _ecs),
    AwsAction("ecs", "UpdateService", False, "region", _deploy),
)
BACKGROUND_MIX = (
    ("GetObject", 18), ("Decrypt", 12), ("PutObject", 8), ("ListObjects", 6), ("HeadObject", 6),
    ("DescribeInstances", 6), ("GetParameter", 6), ("Invoke", 6), ("GenerateDataKey", 5),
    ("GetSecretValue", 4), ("DescribeTable", 4), ("CreateLogStream", 4), ("GetCallerIdentity", 3),
    ("ListBuckets", 2), ("DescribeSecurityGroups", 2), ("DescribeStacks", 2),
    ("GetAuthorizationToken", 2), ("DescribeServices", 2), ("GetRole", 1), ("ListRoles", 1),
)
# fmt: on
ACCESS_DENIED = "AccessDenied"
INVALID_TOKEN = ("InvalidClientTokenId", "The security token included in the request is invalid.")


def iam_user(env: AwsEnv, name: str, unique_id: str, key: str | None) -> Record:
    identity: Record = {
        "type": "IAMUser",
        "principalId": unique_id,
        "arn": f"arn:aws:iam::{env.account}:user/{name}",
        "accountId": env.account,
    }
    if key is not None:
        identity["accessKeyId"] = key
    identity["userName"] = name
    return identity


def role_session(
    env: AwsEnv, role: str, session: str, key: str, created: int, ec2: bool = False
) -> Record:
    role_id = env.roles[role]
    context: Record = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": role_id,
            "arn": env.role_arn(role),
            "accountId": env.account,
            "userName": role,
        },
        "webIdFederationData": {},
        "attributes": {"creationDate": iso_seconds(created), "mfaAuthenticated": "false"},
    }
    if ec2:
        context["ec2RoleDelivery"] = "2.0"
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{env.account}:assumed-role/{role}/{session}",
        "accountId": env.account,
        "accessKeyId": key,
        "sessionContext": context,
    }


def _error_message(actor: AwsActor, action: AwsAction, code: str) -> str:
    if action.data and action.service == "s3":
        return "Access Denied"
    arn = actor.identity.get("arn", "")
    permission = f"{action.service}:{action.name}"
    return f"User: {arn} is not authorized to perform: {permission} because no identity-based policy allows the {permission} action"


def ct_record(
    ids: Ids,
    env: AwsEnv,
    ms: int,
    actor: AwsActor,
    action: AwsAction,
    request: Record | None,
    response: Record | None = None,
    error: str | tuple[str, str] | None = None,
    resources: list[Record] | None = None,
) -> Record:
    """One CloudTrail record, keys in the order CloudTrail writes them."""
    region = actor.region if action.scope == "region" else "us-east-1"
    s3_data = action.data and action.service == "s3"
    record: Record = {
        "eventVersion": "1.11" if not action.data else "1.10",
        "userIdentity": actor.identity,
        "eventTime": iso_seconds(ms),
        "eventSource": action.source,
        "eventName": action.name,
        "awsRegion": region,
        "sourceIPAddress": actor.ip,
        "userAgent": f"[{actor.ua}]" if s3_data else actor.ua,
    }
    if error is not None:
        code, message = (
            error if isinstance(error, tuple) else (error, _error_message(actor, action, error))
        )
        record["errorCode"] = code
        record["errorMessage"] = message
    record["requestParameters"] = request
    record["responseElements"] = None if error is not None else response
    if s3_data:
        record["additionalEventData"] = {
            "SignatureVersion": "SigV4",
            "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": 0,
            "AuthenticationMethod": "AuthHeader",
            "x-amz-id-2": ids.b64(76),
            "bytesTransferredOut": ids.rng.randrange(200, 5_000_000),
        }
        resources = _s3_resources(env, request or {})
    record["requestID"] = ids.base32(16) if s3_data else ids.uuid()
    record["eventID"] = ids.uuid()
    record["readOnly"] = action.read_only
    if resources:
        record["resources"] = resources
    record["eventType"] = "AwsApiCall"
    record["managementEvent"] = not action.data
    record["recipientAccountId"] = env.account
    record["eventCategory"] = "Data" if action.data else "Management"
    host = (request or {}).get("Host") if s3_data else None
    record["tlsDetails"] = {
        "tlsVersion": "TLSv1.3",
        "cipherSuite": "TLS_AES_128_GCM_SHA256",
        "clientProvidedHostHeader": host or _endpoint(action, region),
    }
    return record


def _endpoint(action: AwsAction, region: str) -> str:
    if action.service in ("iam", "sts", "s3"):
        return f"{action.service}.amazonaws.com"
    return f"{action.service}.{region}.amazonaws.com"


def _s3_resources(env: AwsEnv, request: Record) -> list[Record]:
    bucket = request.get("bucketName", "")
    resources: list[Record] = []
    if "key" in request:
        resources.append(
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{request['key']}"}
        )
    resources.append(
        {"accountId": env.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}
    )
    return resources


def assume_role_record(
    ids: Ids, env: AwsEnv, ms: int, caller: AwsActor, role: str, session: str, duration: int
) -> tuple[Record, str]:
    """AssumeRole as CloudTrail logs it; returns the record and the ASIA key it issued."""
    key = ids.aws_key("ASIA")
    request = {
        "roleArn": env.role_arn(role),
        "roleSessionName": session,
        "durationSeconds": duration,
    }
    response = {
        "credentials": {
            "accessKeyId": key,
            "sessionToken": ids.session_token(),
            "expiration": aws_date(ms + duration * SECOND),
        },
        "assumedRoleUser": {
            "assumedRoleId": f"{env.roles[role]}:{session}",
            "arn": f"arn:aws:sts::{env.account}:assumed-role/{role}/{session}",
        },
    }
    resources = [{"accountId": env.account, "type": "AWS::IAM::Role", "ARN": env.role_arn(role)}]
    record = ct_record(
        ids, env, ms, caller, ACTIONS["AssumeRole"], request, response, resources=resources
    )
    return record, key


def create_access_key_record(
    ids: Ids, env: AwsEnv, ms: int, caller: AwsActor, user: str
) -> tuple[Record, str]:
    key = ids.aws_key("AKIA")
    response = {
        "accessKey": {
            "userName": user,
            "accessKeyId": key,
            "status": "Active",
            "createDate": aws_date(ms),
        }
    }
    record = ct_record(
        ids, env, ms, caller, ACTIONS["CreateAccessKey"], {"userName": user}, response
    )
    return record, key


def console_login_record(
    ids: Ids, env: AwsEnv, ms: int, user: Record, place: Place, agent: Agent
) -> Record:
    return {
        "eventVersion": "1.09",
        "userIdentity": user,
        "eventTime": iso_seconds(ms),
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1",
        "sourceIPAddress": place.ip,
        "userAgent": agent.raw,
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": "Success"},
        "additionalEventData": {
            "LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1",
            "MobileVersion": "No",
            "MFAUsed": "Yes",
        },
        "eventID": ids.uuid(),
        "readOnly": False,
        "eventType": "AwsConsoleSignIn",
        "managementEvent": True,
        "recipientAccountId": env.account,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": "signin.aws.amazon.com",
        },
    }


# --- Okta System Log ----------------------------------------------------------------

# fmt: off
DISPLAY = {
    "user.session.start": "User login to Okta",
    "user.session.end": "User logout from Okta",
    "user.authentication.sso": "User single sign on to app",
    "user.authentication.auth_via_mfa": "Authentication of user via MFA",
    "user.authentication.verify": "Verify user identity",
    "policy.evaluate_sign_on": "Evaluation of sign-on policy",
    "user.session.access_admin_app": "User accessing Okta admin app",
    "user.session.clear": "Clear user session",
    "system.api_token.create": "Create API token",
    "system.api_token.revoke": "Revoke API token",
    "user.lifecycle.create": "Create Okta user",
    "user.lifecycle.activate": "Activate Okta user",
    "user.account.update_profile": "Update user profile for Okta",
    "user.account.privilege.grant": "Grant user privilege",
    "group.user_membership.add": "Add user to group membership",
    "application.user_membership.add": "Add user to application membership",
}
REQUEST_URI = {
    "user.session.start": "/idp/idx/identify",
    "user.authentication.auth_via_mfa": "/idp/idx/challenge/answer",
    "user.authentication.verify": "/idp/idx/identify",
    "policy.evaluate_sign_on": "/idp/idx/introspect",
    "user.session.end": "/login/signout",
    "user.session.access_admin_app": "/admin/sso/callback",
    "user.session.clear": "/api/v1/users/sessions",
    "system.api_token.create": "/api/internal/tokens",
    "system.api_token.revoke": "/api/internal/tokens",
    "user.lifecycle.create": "/api/v1/users",
    "user.account.update_profile": "/api/v1/users",
}
API_PATHS = {"user": "/api/v1/users", "group": "/api/v1/groups", "application": "/api/v1/apps"}
OKTA_APPS = (
    ("amazon_aws", "AWS Account Federation"), ("slack", "Slack"),
    ("githubcloud", "GitHub Enterprise Cloud - Organization"), ("google", "Google Workspace"),
    ("zoomus", "Zoom"), ("jira_onprem", "Jira"), ("salesforce", "Salesforce.com"),
    ("workday", "Workday"),
)
# fmt: on


@dataclass
class OktaUser:
    id: str
    login: str
    name: str
    place: Place
    agent: Agent
    session: str | None = None

    @cached_property
    def actor(self) -> Record:
        return {
            "id": self.id,
            "type": "User",
            "alternateId": self.login,
            "displayName": self.name,
            "detailEntry": None,
        }

    def scene(self, session: str | None) -> OktaScene:
        return OktaScene(self, self.place, self.agent, session)


@dataclass(frozen=True)
class OktaScene:
    """Who acts, from where, with which browser, in which session (or with which API token)."""

    user: OktaUser
    place: Place
    agent: Agent
    session: str | None
    api_token: str | None = None


def okta_target(kind: str, target_id: str, name: str, alternate: str = "unknown") -> Record:
    detail = {"signOnModeType": "SAML_2_0"} if kind == "AppInstance" else None
    return {
        "id": target_id,
        "type": kind,
        "alternateId": alternate,
        "displayName": name,
        "detailEntry": detail,
    }


def okta_event(
    ids: Ids,
    ms: int,
    event_type: str,
    scene: OktaScene,
    targets: list[Record] | None = None,
    result: str = "SUCCESS",
    reason: str | None = None,
) -> Record:
    """One System Log LogEvent (an `/api/v1/logs` element)."""
    request_id = ids.alnum(27)
    if scene.api_token:
        uri = API_PATHS[event_type.split(".")[0]]
    else:
        uri = REQUEST_URI.get(event_type, "/app/sso/saml")
    context: Record = {
        "authenticationProvider": None,
        "credentialProvider": None,
        "credentialType": None,
        "issuer": None,
        "interface": None,
        "authenticationStep": 0,
        "externalSessionId": scene.session or "unknown",
    }
    if scene.session:
        context["rootSessionId"] = scene.session
    place, agent = scene.place, scene.agent
    return {
        "actor": scene.user.actor,
        "client": {
            "userAgent": agent.okta,
            "zone": "null",
            "geographicalContext": place.okta_geo,
            "ipAddress": place.ip,
            "device": agent.device,
            "id": None,
        },
        "device": None,
        "authenticationContext": context,
        "displayMessage": DISPLAY.get(event_type, event_type),
        "eventType": event_type,
        "outcome": {"result": result, "reason": reason},
        "published": iso_millis(ms),
        "securityContext": place.okta_security,
        "severity": "INFO" if result in ("SUCCESS", "ALLOW") else "WARN",
        "debugContext": {
            "debugData": {
                "requestId": request_id,
                "requestUri": uri,
                "url": uri + "?",
                "threatSuspected": "false",
            }
        },
        "legacyEventType": None,
        "transaction": {
            "type": "WEB",
            "id": request_id,
            "detail": {"requestApiTokenId": scene.api_token} if scene.api_token else {},
        },
        "uuid": ids.uuid(),
        "version": "0",
        "request": {"ipChain": place.okta_ip_chain},
        "target": targets,
    }


# --- GitHub audit log ---------------------------------------------------------------

PAT_CLASSIC = "Personal access token (classic)"  # programmatic_access_type
APP_TOKEN = "GitHub App server-to-server token"
BUSINESS = ("corp", 48213)
GH_ORGS = (("corp-eng", 81234567), ("corp-data", 81234588), ("corp-infra", 81234601))
# fmt: off
GH_REPOS = (
    "api-gateway", "billing-service", "web-frontend", "mobile-app", "deploy-config",
    "terraform-live", "data-pipelines", "ml-models", "auth-service", "search-indexer",
    "notifications", "design-system", "payments-core", "customer-portal", "internal-tools",
    "release-tools", "helm-charts", "docs",
)
GH_ROUTES = (
    ("GET", "/repos/{owner}/{repo}/pulls", 200), ("GET", "/repos/{owner}/{repo}", 200),
    ("GET", "/repos/{owner}/{repo}/contents/{path}", 200),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", 201),
    ("GET", "/repos/{owner}/{repo}/actions/runs", 200),
    ("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}", 200),
    ("GET", "/orgs/{org}/members", 200), ("GET", "/repos/{owner}/{repo}/commits/{ref}/status", 404),
)
GH_WEB_ACTIONS = (
    ("pull_request.create", "create"), ("pull_request.merge", "modify"),
    ("pull_request_review.submit", "create"), ("pull_request.close", "modify"),
    ("issue_comment.update", "modify"), ("protected_branch.policy_override", "modify"),
    ("repo.access", "modify"), ("team.add_member", "modify"),
)
# fmt: on


@dataclass(frozen=True)
class GhActor:
    login: str
    id: int
    place: Place
    agent: str
    bot: bool = False


@dataclass(frozen=True)
class GhToken:
    hashed: str
    token_id: int
    scopes: str | None
    kind: str


@dataclass(frozen=True)
class GhScene:
    """Who acts, with which token (None: the web UI), from where, with which client."""

    actor: GhActor
    token: GhToken | None
    place: Place
    agent: str


def gh_scene(
    actor: GhActor, token: GhToken | None, place: Place | None = None, agent: str = ""
) -> GhScene:
    return GhScene(actor, token, place or actor.place, agent or actor.agent)


def gh_event(
    ids: Ids, ms: int, action: str, scene: GhScene, org: tuple[str, int], fields: Record
) -> Record:
    """One enterprise audit-log stream record (serialised with sorted keys, as streamed)."""
    actor, token = scene.actor, scene.token
    record: Record = {
        "@timestamp": ms,
        "_document_id": ids.doc_id(),
        "action": action,
        "actor": actor.login,
        "actor_id": actor.id,
        "actor_ip": scene.place.ip,
        "actor_is_bot": actor.bot,
        "actor_location": scene.place.github_location,
        "business": BUSINESS[0],
        "business_id": BUSINESS[1],
        "org": org[0],
        "org_id": org[1],
        "user_agent": scene.agent,
    }
    git = action.startswith("git.")
    if not git:
        record["created_at"] = ms
    if token is not None:
        record["hashed_token"] = token.hashed
        record["token_id"] = token.token_id
        record["programmatic_access_type"] = token.kind
        if token.scopes is not None and not git:
            record["token_scopes"] = token.scopes
    record.update(fields)
    return record


def api_request(method: str, route: str, status: int, repo: str | None = None) -> Record:
    fields: Record = {
        "request_category": "api",
        "request_method": method,
        "route": route,
        "status_code": status,
        "operation_type": "access",
    }
    if repo:
        fields["repo"] = repo
    return fields


def git_event(repo: str) -> Record:
    return {
        "repo": repo,
        "repository": repo,
        "repository_public": False,
        "transport_protocol": 1,
        "transport_protocol_name": "http",
        "user": "",
        "user_id": 0,
        "external_id": "",
    }


# --- the incident -------------------------------------------------------------------


def ak(key: str | None) -> str:
    return f"aws_access_key:{key}"


AWS_STORY = (
    "Long-term access key of IAM user ci-deployer leaked from CI; the attacker probes, assumes "
    "the Admin role, plants a backdoor key on backup-svc and chains into DataReader; an admin "
    "deactivates the key and deletes the backdoor, while a 12-hour session key outlives its parent."
)
OKTA_STORY = (
    "Okta session of carol@corp.example replayed from abroad (stolen session cookie): admin "
    "console, a new user and an API token created in the session, the token used from a third "
    "network until an admin revokes it."
)
GITHUB_STORY = (
    "Classic personal access token of deploy-bot used by CI, then by an attacker who clones many "
    "repositories; revoked with oauth_access.destroy and tried once more."
)
OKTA_ADMIN_APP = okta_target("AppInstance", "0oa1a2b3c4d5e6f7g8h9", "Okta Admin Console")
PYTHON_REQUESTS = "python-requests/2.32.3"


class Story:
    """The incident: a fixed, seed-shaped script of legitimate use, attack, decoys, response.

    Each part registers its root credential first; minting a credential records
    its parent, and every event carries the references it makes, so the ground
    truth follows from what is emitted. `decoy=True` marks an event that looks
    related but must stay out of the current root's trace.
    """

    def __init__(self, rng: random.Random, env: AwsEnv, start: int) -> None:
        self.rng = rng
        self.ids = Ids(rng)
        self.env = env
        self.start = start
        self.lineage = Lineage()
        self.items: list[Item] = []
        self.root = ""
        self.leaked_at = start + 3 * DAY + 14 * HOUR + rng.randrange(60) * MINUTE
        self.aws_key = self.ids.aws_key("AKIA")
        self.aws_secret = self.ids.b64(40)
        self.github_token = "ghp_" + self.ids.alnum(36)

    def build(self) -> list[Item]:
        self.aws_story()
        self.okta_story()
        self.github_story()
        return sorted(self.items, key=lambda item: item.ms)

    def begin(self, root: str, description: str, attacker_ips: list[str]) -> None:
        self.root = root
        self.lineage.root(root, description, attacker_ips)

    def emit(self, source: str, ms: int, record: Record, refs: list[Ref], decoy: bool) -> None:
        self.items.append(Item(ms, source, record, tuple(refs), self.root if decoy else None))

    def later(self, ms: int, low: int = 4, high: int = 40) -> int:
        """A few seconds on: the pace of someone typing commands."""
        return ms + self.rng.randrange(low * SECOND, high * SECOND)

    # AWS ------------------------------------------------------------------------

    def iam(
        self, name: str, ip: str, ua: str, key: str = "", region: str = "us-east-1"
    ) -> AwsActor:
        """An IAM user calling with its long-term key (a fresh one unless given)."""
        identity = iam_user(
            self.env, name, self.ids.aws_unique_id("AIDA"), key or self.ids.aws_key("AKIA")
        )
        return AwsActor(identity, ip, ua, region)

    def aws(
        self,
        ms: int,
        actor: AwsActor,
        name: str,
        request: Record | bool | None = True,
        error: str | tuple[str, str] | None = None,
        decoy: bool = False,
        revokes: str | None = None,
    ) -> None:
        action = ACTIONS[name]
        body = action.build(self.rng, self.env) if request is True else request
        record = ct_record(self.ids, self.env, ms, actor, action, body or None, error=error)
        refs = [(ak(actor.key), "used")]
        if revokes:
            refs.append((ak(revokes), "revoked"))
        self.emit("aws_cloudtrail", ms, record, refs, decoy)

    def calls(self, ms: int, actor: AwsActor, names: Sequence[str], **options: Any) -> int:
        for name in names:
            ms = self.later(ms)
            self.aws(ms, actor, name, **options)
        return ms

    def minted(
        self, ms: int, caller: AwsActor, record: Record, key: str, via: str, decoy: bool
    ) -> None:
        self.lineage.mint(ak(key), ak(caller.key), via)
        self.emit(
            "aws_cloudtrail", ms, record, [(ak(caller.key), "used"), (ak(key), "issued")], decoy
        )

    def assume_role(
        self, ms: int, caller: AwsActor, role: str, duration: int = 3600, decoy: bool = False
    ) -> AwsActor:
        session = f"botocore-session-{ms // 1000}" if not decoy else "bob.ops"
        record, key = assume_role_record(self.ids, self.env, ms, caller, role, session, duration)
        self.minted(ms, caller, record, key, "AssumeRole", decoy)
        return replace(caller, identity=role_session(self.env, role, session, key, ms))

    def create_access_key(self, ms: int, caller: AwsActor, user: str) -> str:
        record, key = create_access_key_record(self.ids, self.env, ms, caller, user)
        self.minted(ms, caller, record, key, "CreateAccessKey", False)
        return key

    def ci_runs(self, ci: AwsActor, begin: int, end: int) -> None:
        """The legitimate deploy pipeline: every ~6 hours, from one CI egress IP."""
        ms = begin
        while ms < end - 5 * MINUTE:
            self.calls(ms, ci, ("GetCallerIdentity", "GetAuthorizationToken"))
            artifact = s3_object("corp-ci-artifacts", f"builds/{ms // 1000}.tar.gz")
            self.aws(self.later(ms, 50, 70), ci, "PutObject", artifact)
            self.aws(self.later(ms, 90, 120), ci, "UpdateService")
            ms += 6 * HOUR + self.rng.randrange(-10, 10) * MINUTE

    def aws_story(self) -> None:
        env, leak = self.env, self.leaked_at
        self.begin(ak(self.aws_key), AWS_STORY, [ATTACKER.ip, VPS.ip, BACKDOOR_HOST.ip])
        ci = self.iam("ci-deployer", CLOUD.ip, UA_CI, self.aws_key)
        attacker = replace(ci, ip=ATTACKER.ip, ua=UA_ATTACKER)
        from_vps = replace(attacker, ip=VPS.ip, region="eu-west-3")
        revoke_at = leak + 2 * DAY + 10 * HOUR
        self.ci_runs(ci, self.start + 25 * MINUTE, revoke_at)
        # First use from the attacker: recon, object reads, two denials, then Admin.
        t = self.calls(leak + 65 * MINUTE, attacker, ("GetCallerIdentity", "ListBuckets"))
        t = self.calls(t, attacker, ("ListObjects", "GetObject", "GetObject", "GetObject"))
        t = self.calls(t, attacker, ("ListUsers", "GetSecretValue"), error=ACCESS_DENIED)
        t += 4 * MINUTE
        admin = self.assume_role(t, attacker, "Admin")
        # Decoy: someone else assumes the same role in the same second, with their own key.
        bob = self.iam("bob.ops", "198.51.100.31", AWS_AGENTS[1])
        other = self.assume_role(t, bob, "Admin", decoy=True)
        self.aws(self.later(t, 30, 50), other, "ListRoles", decoy=True)
        t = self.calls(t, admin, ("ListUsers", "ListRoles", "ListAccessKeys"))
        backdoor = self.create_access_key(self.later(t), admin, "backup-svc")
        t = self.later(t, 60, 90)
        reader = self.assume_role(t, admin, "DataReader")
        for _ in range(5):
            t = self.later(t)
            self.aws(
                t, reader, "GetObject", s3_object("corp-data-lake-prod", env.object_key(self.rng))
            )
        # Decoy: the attacker's IP with someone else's credential.
        etl = self.iam("analytics-etl", ATTACKER.ip, UA_ATTACKER)
        self.calls(leak + 5 * HOUR, etl, ("ListBuckets", "GetObject"), decoy=True)
        # The leaked key again, from a VPS the next day; the backdoor key from another host.
        recon = ("ListBuckets", "GetObject", "GetObject", "GetObject", "DescribeInstances")
        self.calls(leak + 20 * HOUR, from_vps, recon)
        backup = self.iam("backup-svc", BACKDOOR_HOST.ip, UA_BACKDOOR, backdoor, "eu-central-1")
        self.calls(leak + 26 * HOUR, backup, ("GetCallerIdentity", *recon[:2], *recon[-2:]))
        # A 12-hour Admin session shortly before the response.
        t = leak + 2 * DAY + 8 * HOUR
        persistent = self.assume_role(t, from_vps, "Admin", duration=43200)
        self.calls(t, persistent, ("ListSecrets", "GetSecretValue", "GetSecretValue"))
        self.respond(revoke_at, ci, backdoor)
        # After revocation: the key fails, the session key still works, the backdoor fails.
        self.calls(revoke_at + 25 * MINUTE, from_vps, recon[:1], error=INVALID_TOKEN)
        self.calls(revoke_at + 26 * MINUTE, from_vps, ("GetCallerIdentity",), error=INVALID_TOKEN)
        self.calls(revoke_at + 40 * MINUTE, persistent, recon[:3])
        self.calls(revoke_at + 2 * HOUR, backup, ("GetCallerIdentity",), error=INVALID_TOKEN)

    def respond(self, ms: int, ci: AwsActor, backdoor: str) -> None:
        """An admin, with their own key, looks at ci-deployer, rotates it, removes the backdoor."""
        admin = self.iam("alice.admin", CORP.ip, UA_ADMIN)
        look = ("ListAccessKeys", "GetUser")
        t = self.calls(ms, admin, look, request={"userName": "ci-deployer"}, decoy=True)
        deactivate = {"accessKeyId": self.aws_key, "status": "Inactive", "userName": "ci-deployer"}
        t = self.later(t)
        self.aws(t, admin, "UpdateAccessKey", deactivate, revokes=self.aws_key)
        t = self.calls(t, admin, ("ListAccessKeys",), request={"userName": "backup-svc"})
        t = self.later(t)
        delete = {"userName": "backup-svc", "accessKeyId": backdoor}
        self.aws(t, admin, "DeleteAccessKey", delete, revokes=backdoor)
        new_key = self.create_access_key(self.later(t, 60, 120), admin, "ci-deployer")
        rotated = replace(ci, identity={**ci.identity, "accessKeyId": new_key})
        self.ci_runs(rotated, ms + HOUR, self.start + SPAN - HOUR)

    # Okta -----------------------------------------------------------------------

    def okta(
        self,
        ms: int,
        scene: OktaScene,
        event_type: str,
        targets: list[Record] | None = None,
        refs: Sequence[Ref] = (),
        decoy: bool = False,
        **outcome: str,
    ) -> None:
        record = okta_event(self.ids, ms, event_type, scene, targets, **outcome)
        used = [("okta_session:" + scene.session, "used")] if scene.session else []
        if scene.api_token:
            used.append(("okta_api_token:" + scene.api_token, "used"))
        self.emit("okta", ms, record, used + list(refs), decoy)

    def okta_user(self, login: str, name: str, place: Place, agent: Agent) -> OktaUser:
        return OktaUser(self.ids.okta_id("00u"), f"{login}@{DOMAIN}", name, place, agent)

    def okta_story(self) -> None:
        ids = self.ids
        carol = self.okta_user("carol", "Carol Diaz", CORP.at("198.51.100.24"), BROWSERS[0])
        apps = [okta_target("AppInstance", ids.okta_id("0oa"), label) for _, label in OKTA_APPS[:4]]
        office = carol.scene(ids.okta_session())
        self.begin("okta_session:" + str(office.session), OKTA_STORY, [ATTACKER.ip, PROXY.ip])
        day = (self.leaked_at // DAY) * DAY
        self.okta_workdays(office, day - DAY + 15 * HOUR + 50 * MINUTE, apps)
        self.okta_decoys(carol, day + DAY + HOUR, apps[1])
        # The replay: same cookie and browser string, another country and network.
        replay = replace(office, place=ATTACKER)
        t = day + DAY + 3 * HOUR + 10 * MINUTE
        self.okta(t, replay, "user.session.access_admin_app", [OKTA_ADMIN_APP])
        planted = self.okta_user("svc-sync", "svc sync", ATTACKER, carol.agent).actor
        t = self.later(t, 40, 120)
        self.okta(t, replay, "user.lifecycle.create", [planted])
        token = ids.okta_id("00T")
        token_ref = "okta_api_token:" + token
        token_target = [okta_target("Token", token, "okta-sync")]
        self.lineage.mint(token_ref, self.root, "system.api_token.create")
        t = self.later(t, 30, 90)
        self.okta(t, replay, "system.api_token.create", token_target, [(token_ref, "issued")])
        self.okta(self.later(t, 60, 200), replay, "user.authentication.sso", [apps[0]])
        api = OktaScene(carol, PROXY, OKTA_SDK, None, token)
        self.okta_token_use(api, t + 40 * MINUTE, planted, apps[0])
        # The response: an admin, in their own session, revokes the token, clears carol's sessions.
        dave = self.okta_user("dave", "Dave Okoro", CORP.at("198.51.100.27"), BROWSERS[1])
        own = dave.scene(ids.okta_session())
        t = day + DAY + 9 * HOUR
        self.okta(t, own, "user.session.start")
        t = self.later(t, 60, 240)
        self.okta(t, own, "system.api_token.revoke", token_target, [(token_ref, "revoked")])
        self.okta(self.later(t, 20, 60), own, "user.session.clear", [carol.actor])

    def okta_workdays(self, scene: OktaScene, ms: int, apps: list[Record]) -> None:
        """Carol signs in at the office and keeps the session for two working days."""
        steps = (
            "policy.evaluate_sign_on",
            "user.authentication.auth_via_mfa",
            "user.session.start",
        )
        for event_type in steps:
            ms = self.later(ms, 2, 9)
            self.okta(
                ms, scene, event_type, result="ALLOW" if "policy" in event_type else "SUCCESS"
            )
        for minutes in (5, 70, 185, 24 * 60 + 30, 24 * 60 + 200, 24 * 60 + 330):
            at = self.later(ms + minutes * MINUTE)
            self.okta(at, scene, "user.authentication.sso", [self.rng.choice(apps)])

    def okta_decoys(self, carol: OktaUser, ms: int, app: Record) -> None:
        """Carol's other session (her phone, at home); the attacker's IP on another user."""
        phone = OktaScene(carol, _home_place(self.rng, 0), PHONE, self.ids.okta_session())
        self.okta(self.later(ms, 20, 300), phone, "user.session.start", decoy=True)
        for minutes in (10, 25):
            self.okta(ms + minutes * MINUTE, phone, "user.authentication.sso", [app], decoy=True)
        guess = self.okta_user("erin", "Erin Walsh", ATTACKER, BROWSERS[2]).scene(None)
        for minutes in (110, 111):
            at = self.later(ms + minutes * MINUTE)
            refused = {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"}
            self.okta(at, guess, "user.session.start", decoy=True, **refused)

    def okta_token_use(self, scene: OktaScene, ms: int, planted: Record, app: Record) -> None:
        """The new API token makes the planted user an admin, from a third network."""
        admins = okta_target("UserGroup", self.ids.okta_id("00g"), "Okta Administrators")
        for event_type, targets in (
            ("user.lifecycle.activate", [planted]),
            ("group.user_membership.add", [planted, admins]),
            ("user.account.privilege.grant", [planted]),
            ("application.user_membership.add", [planted, app]),
        ):
            ms = self.later(ms, 3, 30)
            self.okta(ms, scene, event_type, targets)

    # GitHub ---------------------------------------------------------------------

    def github(
        self,
        ms: int,
        scene: GhScene,
        action: str,
        fields: Record,
        relation: str = "used",
        decoy: bool = False,
    ) -> None:
        record = gh_event(self.ids, ms, action, scene, GH_ORGS[0], fields)
        refs = [("github_token:" + scene.token.hashed, relation)] if scene.token else []
        self.emit("github", ms, record, refs, decoy)

    def github_story(self) -> None:
        ids, leak = self.ids, self.leaked_at
        bot = GhActor("deploy-bot", ids.number(8), RUNNER, UA_OCTOKIT)
        hashed = github_hashed_token(self.github_token)
        token = GhToken(hashed, ids.number(9), "repo,read:org,workflow", PAT_CLASSIC)
        self.begin("github_token:" + token.hashed, GITHUB_STORY, [ATTACKER.ip])
        revoke_at = leak + 2 * DAY + 12 * HOUR
        rotated = replace(token, hashed=ids.digest(), token_id=ids.number(9))
        self.deploys(gh_scene(bot, token), self.start + 40 * MINUTE, revoke_at)
        self.deploys(gh_scene(bot, rotated), revoke_at + HOUR, self.start + SPAN - HOUR)
        api = gh_scene(bot, token, ATTACKER, PYTHON_REQUESTS)
        self.github_theft(api, leak + DAY + 18 * HOUR)
        self.github_decoys(replace(token, scopes="repo"), leak + DAY + 18 * HOUR)
        # The owner revokes the token in the web UI; the attacker tries once more.
        owner = GhActor("platform-lead", ids.number(8), CORP.at("198.51.100.33"), BROWSERS[0].raw)
        destroy = {"user": bot.login, "user_id": bot.id, "operation_type": "remove"}
        self.github(revoke_at, gh_scene(owner, token), "oauth_access.destroy", destroy, "revoked")
        self.github(revoke_at + 3 * HOUR, api, "api.request", api_request("GET", "/user", 401))

    def github_theft(self, api: GhScene, ms: int) -> None:
        """Who am I, what can I see, clone everything, look at the secrets."""
        for route in ("/user", "/orgs/{org}/repos", "/orgs/{org}/repos"):
            ms = self.later(ms)
            self.github(ms, api, "api.request", api_request("GET", route, 200))
        clone = replace(api, agent="git/2.39.2")
        for repo in self.rng.sample(GH_REPOS, 12):
            ms = self.later(ms, 8, 45)
            self.github(ms, clone, "git.clone", git_event(f"{GH_ORGS[0][0]}/{repo}"))
        secrets = api_request("GET", "/repos/{owner}/{repo}/actions/secrets", 200)
        self.github(self.later(ms), api, "api.request", secrets)

    def github_decoys(self, template: GhToken, ms: int) -> None:
        """Another bot's token, busy at the same time from the same runners."""
        token = replace(template, hashed=self.ids.digest(), token_id=self.ids.number(9))
        other = gh_scene(GhActor("release-bot", self.ids.number(8), RUNNER, UA_OCTOKIT), token)
        release = api_request("POST", "/repos/{owner}/{repo}/releases", 201)
        for minutes in (3, 9):
            at = ms + minutes * MINUTE
            self.github(at, other, "api.request", release, decoy=True)
            clone = git_event(f"{GH_ORGS[0][0]}/release-tools")
            self.github(
                self.later(at), replace(other, agent=UA_GIT[0]), "git.clone", clone, decoy=True
            )

    def deploys(self, scene: GhScene, begin: int, end: int) -> None:
        """The deploy workflow: clone the config repo, create a deployment, every ~6 hours."""
        ms = begin
        repo = f"{GH_ORGS[0][0]}/deploy-config"
        while ms < end - 5 * MINUTE:
            self.github(ms, replace(scene, agent=UA_GIT[0]), "git.clone", git_event(repo))
            deployment = api_request("POST", "/repos/{owner}/{repo}/deployments", 201, repo)
            self.github(self.later(ms, 30, 90), scene, "api.request", deployment)
            ms += 6 * HOUR + self.rng.randrange(-15, 15) * MINUTE


def _home_place(rng: random.Random, index: int) -> Place:
    city, state, postal, lat, lon, asn, org, isp = HOMES[index % len(HOMES)]
    ip = f"100.64.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    return Place(ip, city, state, "United States", "US", postal, lat, lon, asn, org, isp)


# --- background ---------------------------------------------------------------------


class Background:
    """Everyday activity of a mid-size company: the haystack the incident hides in.

    One call makes one record; state (role sessions, Okta sessions, app tokens)
    moves forward with time, so records stay coherent.
    """

    def __init__(self, rng: random.Random, env: AwsEnv, people: int, start: int) -> None:
        self.rng = rng
        self.start = start - HOUR  # sessions already running when the logs begin
        self.ids = Ids(rng)
        self.env = env
        names = self.names(people)
        places = [
            CORP.at(f"198.51.100.{40 + i % 200}") if i % 3 else _home_place(rng, i)
            for i in range(people)
        ]
        agents = [BROWSERS[i % len(BROWSERS)] for i in range(people)]
        self.aws_people = [self.iam_person(i, name, places[i]) for i, name in enumerate(names)]
        self.aws_roles = [self.role_workload(index) for index in range(24)]
        self.aws_callers = self.aws_people + self.aws_services() + self.aws_roles
        self.consoles = list(zip(self.aws_people, places, agents, strict=True))
        self.mix = [ACTIONS[name] for name, weight in BACKGROUND_MIX for _ in range(weight)]
        self.okta_users = [
            OktaUser(self.ids.okta_id("00u"), f"{n}@{DOMAIN}", n.replace(".", " ").title(), p, a)
            for n, p, a in zip(names, places, agents, strict=True)
        ]
        self.okta_apps = [
            okta_target("AppInstance", self.ids.okta_id("0oa"), label) for _, label in OKTA_APPS
        ]
        self.okta_tokens = [self.ids.okta_id("00T") for _ in range(3)]
        groups = ("Engineering", "Sales", "Contractors", "On-call")
        self.okta_groups = [okta_target("UserGroup", self.ids.okta_id("00g"), g) for g in groups]
        self.gh_people = [
            gh_scene(GhActor(n.replace(".", "-"), self.ids.number(8), p, UA_GH_CLI), self.pat())
            for n, p in zip(names, places, strict=True)
        ]
        self.gh_browsers = [
            replace(s, token=None, agent=a.raw) for s, a in zip(self.gh_people, agents, strict=True)
        ]
        self.gh_apps = [
            GhActor("dependabot[bot]", 49699333, CLOUD.at("192.0.2.80"), UA_GIT[1], bot=True),
            GhActor("github-actions[bot]", 41898282, RUNNER.at("192.0.2.61"), UA_GIT[0], bot=True),
            GhActor("renovate[bot]", 29139614, CLOUD.at("192.0.2.81"), UA_GIT[3], bot=True),
        ]
        self.app_tokens: dict[tuple[str, int], GhToken] = {}

    def names(self, people: int) -> list[str]:
        base = [f"{first}.{last}" for last in LAST for first in FIRST]
        self.rng.shuffle(base)
        return [
            base[i % len(base)] + (str(i // len(base)) if i >= len(base) else "")
            for i in range(people)
        ]

    def pat(self) -> GhToken:
        return GhToken(self.ids.digest(), self.ids.number(9), "repo,read:org", PAT_CLASSIC)

    def iam_person(self, index: int, name: str, place: Place) -> AwsActor:
        identity = iam_user(
            self.env, name, self.ids.aws_unique_id("AIDA"), self.ids.aws_key("AKIA")
        )
        region = ("us-east-1", "us-west-2", "eu-west-1")[index % 3]
        return AwsActor(identity, place.ip, AWS_AGENTS[index % len(AWS_AGENTS)], region)

    def aws_services(self) -> list[AwsActor]:
        services = (("terraform", UA_GO), ("analytics-etl", UA_JAVA), ("metrics-exporter", UA_GO))
        return [
            AwsActor(
                iam_user(self.env, name, self.ids.aws_unique_id("AIDA"), self.ids.aws_key("AKIA")),
                f"192.0.2.{20 + i}",
                ua,
            )
            for i, (name, ua) in enumerate(services)
        ]

    def role_workload(self, index: int) -> AwsActor:
        """An EC2 instance profile or Lambda execution role session."""
        role = ("web-app", "batch-worker", "lambda-exec")[index % 3]
        on_lambda = role == "lambda-exec"
        session = (
            self.env.functions[index % 4] if on_lambda else f"i-0{self.rng.getrandbits(64):016x}"
        )
        identity = role_session(
            self.env, role, session, self.ids.aws_key("ASIA"), self.start, ec2=not on_lambda
        )
        region = ("us-east-1", "us-west-2")[index % 2]
        return AwsActor(
            identity,
            f"192.0.2.{100 + index}",
            UA_LAMBDA if on_lambda else UA_JAVA,
            region,
            role,
            session,
        )

    def record(self, source: str, ms: int) -> Record:
        if source == "aws_cloudtrail":
            return self.cloudtrail(ms)
        if source == "okta":
            return self.okta(ms)
        return self.github(ms)

    def cloudtrail(self, ms: int) -> Record:
        rng = self.rng
        roll = rng.random()
        if roll < 0.01:
            actor, place, agent = rng.choice(self.consoles)
            user = {k: v for k, v in actor.identity.items() if k != "accessKeyId"}
            return console_login_record(self.ids, self.env, ms, user, place, agent)
        if roll < 0.04:
            return self.renew_role(ms)
        actor = rng.choice(self.aws_callers)
        action = rng.choice(self.mix)
        error = ACCESS_DENIED if roll > 0.985 else None
        return ct_record(
            self.ids, self.env, ms, actor, action, action.build(rng, self.env), error=error
        )

    def renew_role(self, ms: int) -> Record:
        """A service assumes its role again: a fresh ASIA key for that workload."""
        actor = self.rng.choice(self.aws_roles)
        role, session = str(actor.role), str(actor.session)
        invoker = "lambda.amazonaws.com" if role == "lambda-exec" else "ec2.amazonaws.com"
        service = AwsActor({"type": "AWSService", "invokedBy": invoker}, invoker, invoker)
        record, key = assume_role_record(self.ids, self.env, ms, service, role, session, 3600)
        actor.identity = role_session(
            self.env, role, session, key, ms, ec2=invoker.startswith("ec2")
        )
        return record

    def okta(self, ms: int) -> Record:
        rng, ids = self.rng, self.ids
        roll = rng.random()
        if roll < 0.06:
            return self.okta_automation(ms)
        user = rng.choice(self.okta_users)
        if user.session is None or roll < 0.15:
            if rng.random() < 0.04:
                failed = user.scene(None)
                return okta_event(
                    ids,
                    ms,
                    "user.session.start",
                    failed,
                    result="FAILURE",
                    reason="INVALID_CREDENTIALS",
                )
            user.session = ids.okta_session(rng.choice(("102", "idx")))
            return okta_event(ids, ms, "user.session.start", user.scene(user.session))
        scene = user.scene(user.session)
        if roll < 0.2:
            user.session = None
            return okta_event(ids, ms, "user.session.end", scene)
        if roll < 0.3:
            event_type = rng.choice(
                (
                    "user.authentication.auth_via_mfa",
                    "policy.evaluate_sign_on",
                    "user.authentication.verify",
                )
            )
            return okta_event(
                ids,
                ms,
                event_type,
                scene,
                result="ALLOW" if event_type.startswith("policy") else "SUCCESS",
            )
        if roll < 0.32:
            return okta_event(ids, ms, "user.account.update_profile", scene, [user.actor])
        return okta_event(ids, ms, "user.authentication.sso", scene, [rng.choice(self.okta_apps)])

    def okta_automation(self, ms: int) -> Record:
        """Provisioning integrations acting with their API tokens."""
        rng = self.rng
        scene = OktaScene(
            self.okta_users[0],
            CLOUD.at("192.0.2.40"),
            OKTA_WORKFLOWS,
            None,
            rng.choice(self.okta_tokens),
        )
        event_type = rng.choice(
            ("user.account.update_profile", "group.user_membership.add", "user.lifecycle.activate")
        )
        targets = [rng.choice(self.okta_users).actor]
        if event_type.startswith("group"):
            targets.append(rng.choice(self.okta_groups))
        return okta_event(self.ids, ms, event_type, scene, targets)

    def github(self, ms: int) -> Record:
        rng = self.rng
        roll = rng.random()
        org = rng.choice(GH_ORGS)
        repo = f"{org[0]}/{rng.choice(GH_REPOS)}"
        if roll < 0.35:
            scene = self.gh_token_holder(ms)
            if not scene.actor.bot:
                scene = replace(scene, agent=rng.choice(UA_GIT[:3]))
            action = rng.choice(("git.clone", "git.fetch", "git.fetch", "git.push"))
            return gh_event(self.ids, ms, action, scene, org, git_event(repo))
        if roll < 0.65:
            scene = self.gh_token_holder(ms)
            if scene.actor.bot:
                scene = replace(scene, agent=UA_OCTOKIT)
            return gh_event(
                self.ids, ms, "api.request", scene, org, api_request(*rng.choice(GH_ROUTES), repo)
            )
        action, operation = rng.choice(GH_WEB_ACTIONS)
        fields = {"repo": repo, "operation_type": operation, "public_repo": False}
        return gh_event(self.ids, ms, action, rng.choice(self.gh_browsers), org, fields)

    def gh_token_holder(self, ms: int) -> GhScene:
        """A person's PAT, or an app's installation token (new every hour, as GitHub issues them)."""
        if self.rng.random() < 0.5:
            return self.rng.choice(self.gh_people)
        app = self.rng.choice(self.gh_apps)
        slot = (app.login, ms // HOUR)
        token = self.app_tokens.get(slot)
        if token is None:
            self.app_tokens = {k: v for k, v in self.app_tokens.items() if k[1] >= slot[1] - 1}
            token = self.app_tokens[slot] = GhToken(self.ids.digest(), 0, None, APP_TOKEN)
        return gh_scene(app, token)


# --- time plan and files ------------------------------------------------------------


def _activity(ms: int) -> float:
    """Relative activity at a moment: US office hours, quieter nights and weekends."""
    t = time.gmtime(ms // 1000)
    local = (t.tm_hour - 7) % 24
    level = 1.0 if 8 <= local < 18 else 0.45 if 6 <= local < 22 else 0.15
    return level * (0.3 if t.tm_wday >= 5 else 1.0)


def _window_minutes(cloudtrail_events: int) -> int:
    """The shortest delivery window that still gives CloudTrail files a few dozen records."""
    for minutes in WINDOW_MINUTES:
        if cloudtrail_events * minutes * MINUTE >= RECORDS_PER_FILE * SPAN:
            return minutes
    return WINDOW_MINUTES[-1]


def _spread(total: int, weights: list[float]) -> list[int]:
    """Exactly `total` events over windows in proportion to weights (cumulative rounding)."""
    counts, running, placed, whole = [], 0.0, 0, sum(weights)
    for weight in weights:
        running += weight
        target = round(total * running / whole)
        counts.append(target - placed)
        placed = target
    return counts


def _gzip(data: bytes) -> bytes:
    """gzip without a timestamp or file name, so equal content gives equal bytes."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


class Files:
    """Writes records the way each vendor delivers them, and counts them."""

    def __init__(self, logs: Path, account: str, ids: Ids) -> None:
        self.logs = logs
        self.account = account
        self.ids = ids
        self.count = 0
        self.okta_page: list[bytes] = []
        self.okta_pages = 0

    def window(self, start: int, items: list[Item]) -> None:
        by_source: dict[str, list[Record]] = defaultdict(list)
        for item in items:
            by_source[item.source].append(item.record)
        self.count += len(items)
        regions: dict[str, list[Record]] = defaultdict(list)
        for record in by_source["aws_cloudtrail"]:
            regions[record["awsRegion"]].append(record)
        for region in sorted(regions):
            self.cloudtrail(start, region, regions[region])
        if by_source["github"]:
            self.github(start, by_source["github"])
        for record in by_source["okta"]:
            self.okta_page.append(orjson.dumps(record))
            if len(self.okta_page) == OKTA_PAGE_SIZE:
                self.flush_okta()

    def cloudtrail(self, start: int, region: str, records: list[Record]) -> None:
        t = time.gmtime(start // 1000)
        stamp = time.strftime("%Y%m%dT%H%MZ", t)
        name = f"{self.account}_CloudTrail_{region}_{stamp}_{self.ids.alnum(16)}.json.gz"
        folder = self.logs / "aws_cloudtrail" / "AWSLogs" / self.account / "CloudTrail" / region
        body = b'{"Records":[' + b",".join(orjson.dumps(r) for r in records) + b"]}"
        self.write(folder / time.strftime("%Y/%m/%d", t) / name, body)

    def github(self, start: int, records: list[Record]) -> None:
        t = time.gmtime(start // 1000)
        name = f"{time.strftime('%Y%m%dT%H%MZ', t)}_{self.ids.uuid()}.json.gz"
        body = b"".join(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) + b"\n" for r in records)
        self.write(self.logs / "github" / time.strftime("%Y/%m/%d/%H", t) / name, body)

    def flush_okta(self) -> None:
        if self.okta_page:
            self.okta_pages += 1
            body = b"[" + b",".join(self.okta_page) + b"]"
            self.write(self.logs / "okta" / f"system_log_page_{self.okta_pages:06d}.json.gz", body)
            self.okta_page = []

    def write(self, path: Path, body: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_gzip(body))


def _background_items(
    background: Background, start: int, length: int, counts: dict[str, int]
) -> list[Item]:
    """One window of background events, built in time order so state stays coherent."""
    rng = background.rng
    stamps = sorted(
        (start + rng.randrange(length), source) for source in SOURCES for _ in range(counts[source])
    )
    return [Item(ms, source, background.record(source, ms)) for ms, source in stamps]


def generate(
    out: Path, events: int = 2000, seed: int = 7, start: datetime | None = None
) -> GroundTruth:
    """Write a synthetic incident of about `events` events under `out`; return its ground truth.

    Layout: `out/logs/{aws_cloudtrail,okta,github}/…`, `out/leaked_token.txt` (AWS
    credentials file), `out/leaked_github_token.txt` (raw PAT), `out/ground_truth.json`,
    and `out/.irignore` so that `ir ingest out` reads only the logs.
    The incident is a fixed part (a few hundred events); background fills the rest.
    """
    out = Path(out)
    logs = out / "logs"
    if logs.exists() and any(logs.iterdir()):
        raise FileExistsError(f"{logs} already holds files; generate into an empty folder")
    begin = _epoch_ms(start or DEFAULT_START)
    story_rng = random.Random(seed)
    env = AwsEnv.create(Ids(story_rng))
    story = Story(story_rng, env, begin)
    incident = story.build()
    rng = random.Random(f"{seed}:background")
    background = Background(rng, env, 30 + min(2000, int(events**0.5 / 4)), begin)
    files = Files(logs, env.account, Ids(rng))
    for window_start, length, counts in _plan(max(0, events - len(incident)), begin):
        window = list(_take(incident, window_start + length))
        for item in window:
            story.lineage.observe(item)
        items = sorted(
            window + _background_items(background, window_start, length, counts), key=lambda i: i.ms
        )
        if items:
            files.window(window_start, items)
    files.flush_okta()
    if incident:
        raise RuntimeError(f"{len(incident)} incident events fall outside the generated span")
    _write_secrets(out, story)
    (out / ".irignore").write_text(IRIGNORE)
    truth = GroundTruth(seed, files.count, iso_seconds(story.leaked_at), story.lineage.finish())
    (out / "ground_truth.json").write_bytes(
        orjson.dumps(truth.to_json(), option=orjson.OPT_INDENT_2) + b"\n"
    )
    return truth


def _take(items: list[Item], before: int) -> Iterator[Item]:
    """Pop the (time-sorted) incident items that fall before `before`."""
    while items and items[0].ms < before:
        yield items.pop(0)


def _plan(background: int, begin: int) -> Iterator[tuple[int, int, dict[str, int]]]:
    """Delivery windows over the span, each with its share of background events per source."""
    per_source = {source: round(background * share) for source, share in SHARES.items()}
    per_source["github"] = background - sum(per_source.values())
    length = _window_minutes(per_source["aws_cloudtrail"]) * MINUTE
    starts = list(range(begin, begin + SPAN, length))
    weights = [sum(_activity(s + h) for h in range(0, length, min(length, HOUR))) for s in starts]
    spread = {source: _spread(count, weights) for source, count in per_source.items()}
    for index, window_start in enumerate(starts):
        yield window_start, length, {source: spread[source][index] for source in SOURCES}


def _write_secrets(out: Path, story: Story) -> None:
    """The only two places raw secrets exist: what the responder was handed."""
    aws = f"[ci-deployer]\naws_access_key_id = {story.aws_key}\naws_secret_access_key = {story.aws_secret}\n"
    (out / "leaked_token.txt").write_text(aws)
    (out / "leaked_github_token.txt").write_text(story.github_token + "\n")
