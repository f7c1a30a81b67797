"""GitHub enterprise audit log: deploy-bot's leaked PAT, and an engineering org's daily work.

Streaming records (NDJSON, keys sorted, one gz file per delivery window) with
`hashed_token` (base64 SHA-256 of the raw token), `programmatic_access_type`, and
`transport_protocol_name` on git events.
"""

from __future__ import annotations

import base64
import hashlib
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path

import orjson

from ir.synth.core import (
    ATTACKER,
    BROWSERS,
    CLOUD,
    CORP,
    DAY,
    HOUR,
    MINUTE,
    PYTHON_REQUESTS,
    RUNNER,
    SPAN,
    Chapter,
    Company,
    Ids,
    Place,
    Record,
    Story,
    Touch,
    Vendor,
    write_gzip,
)

SOURCE = "github"
# How the actions of the incident treat what they name (the shared rule of parsers.base).
ACCESS = {
    "git.clone": "read",
    "git.fetch": "read",
    "git.push": "write",
    "oauth_access.destroy": "admin",
}
UA_GIT = ("git/2.45.2", "git/2.43.0", "git/2.39.3 (Apple Git-146)", "go-git/5.x")
UA_OCTOKIT = "octokit-rest.js/20.1.1 octokit-core.js/5.2.0 Node.js/20.15.1 (linux; x64)"
UA_GH_CLI = "GitHub CLI 2.55.0"

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


def github_hashed_token(raw: str) -> str:
    """What GitHub logs for a token: standard base64 (padded) of its binary SHA-256."""
    return base64.b64encode(hashlib.sha256(raw.encode()).digest()).decode()


# --- the incident -------------------------------------------------------------------

GITHUB_STORY = (
    "Classic personal access token of deploy-bot used by CI, then by an attacker who clones many "
    "repositories; revoked with oauth_access.destroy and tried once more."
)


class GithubChapter(Chapter):
    """deploy-bot's classic PAT: CI deploys, an attacker's clones, revocation, one more try."""

    def __init__(self, story: Story, rng: random.Random, world: None) -> None:
        super().__init__(story, rng)
        self.github_token = "ghp_" + self.ids.alnum(36)
        story.secrets["leaked_github_token.txt"] = self.github_token + "\n"

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
        self.emit("github", ms, record, refs, decoy, self.touched(action, fields, scene))

    def touched(self, action: str, fields: Record, scene: GhScene) -> list[Touch]:
        """The repository and the account the record names (ground truth of impact)."""
        method = fields.get("request_method")
        access = ACCESS.get(action) or ("read" if method == "GET" else "write" if method else None)
        attacker = self.by_attacker(scene.place.ip)
        named = [("github_repo", fields.get("repo")), ("github_user", fields.get("user"))]
        return [(kind, value, access, attacker) for kind, value in named if value]

    def run(self) -> None:
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


# --- background ---------------------------------------------------------------------


class GithubHaystack:
    """People's PATs and browsers, and bots whose app tokens GitHub renews every hour."""

    def __init__(self, company: Company, rng: random.Random, world: None) -> None:
        self.rng = rng
        self.ids = Ids(rng)
        names, places, agents = company.names, company.places, company.agents
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

    def record(self, source: str, ms: int) -> Record:
        return self.github(ms)

    def pat(self) -> GhToken:
        return GhToken(self.ids.digest(), self.ids.number(9), "repo,read:org", PAT_CLASSIC)

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


class GithubWriter:
    """Audit-log streaming: one gz NDJSON file per delivery window, keys sorted."""

    def __init__(self, logs: Path, ids: Ids, world: None) -> None:
        self.folder = logs / SOURCE
        self.ids = ids

    def window(self, start: int, records: dict[str, list[Record]]) -> None:
        batch = records.get(SOURCE)
        if not batch:
            return
        t = time.gmtime(start // 1000)
        name = f"{time.strftime('%Y%m%dT%H%MZ', t)}_{self.ids.uuid()}.json.gz"
        body = b"".join(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) + b"\n" for r in batch)
        write_gzip(self.folder / time.strftime("%Y/%m/%d/%H", t) / name, body)

    def close(self) -> None:
        pass


VENDOR = Vendor(
    name="github",
    shares={SOURCE: 0.15},
    event_ids={SOURCE: lambda record: record["_document_id"]},
    chapter=GithubChapter,
    haystack=GithubHaystack,
    writer=GithubWriter,
    shared_generators=True,
)
