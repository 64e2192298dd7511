"""The demo organization: a deterministic, realistic fake company written in the data contract.

`write_demo(out_dir)` writes `events/` (Parquet, hive-partitioned by the UTC date of `ts`) and
`directory/` (users, teams, team_managers, agents, prices) as `data/schema.py` describes them.

What makes it look like a real company (each number is a named knob below):
- teams of uneven size, agents with owner teams, Zipf-like popularity and staggered launches;
  teams reach first for the agents relevant to them, each person also has a favourite;
- a working-week rhythm in the organization's local time (`tz`, DST included);
- staggered adoption (some people never adopt, a few churn or leave the company);
- heavy-tailed usage per person, multi-turn conversations, tokens by agent, latency that follows
  output tokens, a few percent errors, and one cost spike (an agent switched to an expensive model).

Same arguments give the same rows: every random draw comes from `numpy.random.default_rng`
seeded by `seed` (per day for events), and only the default `end` reads the clock.
Events are generated and written one local day at a time, so memory does not grow with size.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data import schema

# --- The cast ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Team:
    key: str
    name: str
    weight: float  # relative head count

    @property
    def team_id(self) -> str:
        return f"t_{self.key}"


@dataclass(frozen=True)
class Model:
    name: str
    input_usd_per_mtok: Decimal
    output_usd_per_mtok: Decimal
    ms_per_output_token: float  # drives latency: bigger models stream slower


@dataclass(frozen=True)
class Agent:
    name: str
    owner: str  # team key
    relevant: tuple[str, ...]  # team keys that reach for this agent first
    model: str
    alt_model: str | None  # some conversations pick another model
    input_tokens: int  # median per interaction
    output_tokens: int  # median per interaction
    error_rate: float
    general: bool = False  # useful to every team

    @property
    def agent_id(self) -> str:
        slug = "".join(c if c.isalnum() else "_" for c in self.name.lower())
        return "a_" + "_".join(part for part in slug.split("_") if part)


# Ordered by how early a growing company has them: an org with n teams gets the first n.
TEAMS = (
    Team("engineering", "Engineering", 28),
    Team("customer_support", "Customer Support", 13),
    Team("sales", "Sales", 11),
    Team("marketing", "Marketing", 6),
    Team("product", "Product", 5),
    Team("data_science", "Data Science", 5),
    Team("finance", "Finance", 4),
    Team("people", "People", 3),
    Team("legal", "Legal", 1.5),
    Team("it", "IT", 2.5),
    Team("customer_success", "Customer Success", 6),
    Team("operations", "Operations", 4),
    Team("security", "Security", 2),
    Team("design", "Design", 3),
    Team("platform", "Platform Infrastructure", 5),
    Team("research", "Research", 3),
    Team("procurement", "Procurement", 1.2),
    Team("communications", "Communications", 1.2),
    Team("compliance", "Compliance", 1.2),
    Team("workplace", "Workplace", 1),
)

# List prices in USD per million tokens, as published for these models in 2025.
MODELS = (
    Model("claude-sonnet-4.5", Decimal("3"), Decimal("15"), 16.0),
    Model("claude-haiku-4.5", Decimal("1"), Decimal("5"), 7.0),
    Model("claude-opus-4.1", Decimal("15"), Decimal("75"), 32.0),
    Model("gpt-5", Decimal("1.25"), Decimal("10"), 20.0),
    Model("gpt-5-mini", Decimal("0.25"), Decimal("2"), 8.0),
    Model("gemini-2.5-pro", Decimal("1.25"), Decimal("10"), 18.0),
    Model("gemini-2.5-flash", Decimal("0.30"), Decimal("2.50"), 6.0),
)

SONNET, HAIKU, OPUS = "claude-sonnet-4.5", "claude-haiku-4.5", "claude-opus-4.1"
GPT5, GPT5_MINI = "gpt-5", "gpt-5-mini"
GEMINI_PRO, GEMINI_FLASH = "gemini-2.5-pro", "gemini-2.5-flash"
ENG = ("engineering", "platform", "security", "data_science")

# Ordered by popularity (the demo's Zipf ranks follow this order, with a little noise).
AGENTS = (
    Agent("Code Review Assistant", "engineering", ENG, SONNET, GPT5, 6000, 700, 0.025),
    Agent("Writing Assistant", "marketing", (), GPT5_MINI, HAIKU, 1200, 500, 0.01, True),
    Agent("Support Triage", "customer_support", ("customer_support", "customer_success"),
          HAIKU, GPT5_MINI, 1800, 250, 0.02),
    Agent("Knowledge Base Q&A", "it", (), HAIKU, GEMINI_FLASH, 3500, 350, 0.015, True),
    Agent("Meeting Summarizer", "people", (), GEMINI_FLASH, GPT5_MINI, 9000, 600, 0.02, True),
    Agent("Sales Email Drafter", "sales", ("sales", "customer_success", "marketing"),
          GPT5_MINI, HAIKU, 1500, 450, 0.015),
    Agent("Incident Responder", "platform", ("engineering", "platform", "security", "it"),
          SONNET, GPT5, 8000, 900, 0.05),
    Agent("SQL Copilot", "data_science", ("data_science", "engineering", "finance", "product"),
          GPT5, SONNET, 3000, 400, 0.04),
    Agent("Contract Analyzer", "legal", ("legal", "procurement", "sales", "compliance"),
          SONNET, GEMINI_PRO, 25000, 1500, 0.03),
    Agent("Research Assistant", "research", ("research", "product", "data_science", "marketing"),
          GEMINI_PRO, OPUS, 12000, 1800, 0.035),
    Agent("Campaign Copywriter", "marketing", ("marketing", "communications", "sales"),
          SONNET, GPT5, 1500, 900, 0.015),
    Agent("Product Spec Writer", "product", ("product", "design", "engineering"),
          SONNET, None, 4000, 1500, 0.02),
    Agent("Ticket Summarizer", "customer_support", ("customer_support", "customer_success", "it"),
          HAIKU, None, 2500, 200, 0.015),
    Agent("Invoice Processor", "finance", ("finance", "procurement", "operations"),
          GPT5_MINI, GEMINI_FLASH, 2200, 300, 0.06),
    Agent("HR Policy Helper", "people", ("people", "workplace"), HAIKU, None, 3000, 400, 0.01),
    Agent("Security Log Analyst", "security", ("security", "it", "platform"),
          SONNET, None, 15000, 800, 0.045),
    Agent("Test Generator", "engineering", ("engineering", "platform"),
          GPT5, SONNET, 5000, 2000, 0.04),
    Agent("Churn Risk Analyzer", "customer_success", ("customer_success", "sales", "data_science"),
          GPT5, None, 6000, 600, 0.03),
    Agent("Lead Qualifier", "sales", ("sales", "marketing"), GPT5_MINI, None, 1200, 200, 0.02),
    Agent("Onboarding Buddy", "people", ("people",), HAIKU, None, 2000, 500, 0.01, True),
    Agent("IT Helpdesk", "it", ("it",), HAIKU, GPT5_MINI, 1500, 300, 0.02, True),
    Agent("Release Notes Writer", "product", ("product", "engineering", "communications"),
          HAIKU, SONNET, 5000, 800, 0.015),
    Agent("Design Critique", "design", ("design", "product", "marketing"),
          GEMINI_PRO, GPT5, 3000, 700, 0.03),
    Agent("Expense Auditor", "finance", ("finance", "operations"),
          GPT5_MINI, None, 1800, 250, 0.025),
    Agent("Forecast Builder", "finance", ("finance", "sales", "operations", "data_science"),
          GPT5, OPUS, 7000, 1200, 0.05),
    Agent("Vendor Due Diligence", "procurement", ("procurement", "legal", "compliance", "security"),
          SONNET, None, 18000, 1200, 0.03),
    Agent("Press Release Drafter", "communications", ("communications", "marketing"),
          SONNET, None, 2000, 1100, 0.015),
    Agent("Policy Compliance Checker", "compliance", ("compliance", "legal", "security", "finance"),
          SONNET, None, 14000, 700, 0.025),
    Agent("Data Pipeline Debugger", "data_science", ("data_science", "engineering", "platform"),
          GPT5, SONNET, 9000, 900, 0.055),
    Agent("Translation Assistant", "customer_support", (), GEMINI_FLASH, None, 1500, 1400, 0.01,
          True),
    Agent("Recruiting Screener", "people", ("people",), GPT5_MINI, None, 5000, 350, 0.02),
    Agent("Slide Deck Builder", "marketing", ("marketing", "sales", "product", "communications"),
          GPT5, SONNET, 2500, 1600, 0.04),
    Agent("On-call Runbook Bot", "platform", ("platform", "engineering", "it"),
          HAIKU, None, 4000, 400, 0.02),
    Agent("Workplace Concierge", "workplace", ("workplace", "people", "operations"),
          GPT5_MINI, None, 800, 150, 0.01),
    Agent("Literature Reviewer", "research", ("research", "data_science", "product"),
          OPUS, GEMINI_PRO, 30000, 2500, 0.04),
    Agent("Supply Chain Planner", "operations", ("operations", "finance", "procurement"),
          GPT5, None, 6000, 900, 0.035),
)

FIRST_NAMES = (
    "Aaliyah", "Aaron", "Abigail", "Adam", "Adrian", "Aisha", "Alejandro", "Alex", "Alice",
    "Amara", "Amelia", "Ana", "Andre", "Andrew", "Angela", "Anika", "Anna", "Arjun", "Ava",
    "Ben", "Bianca", "Brandon", "Caleb", "Camila", "Carlos", "Carmen", "Charlotte", "Chen",
    "Chloe", "Chris", "Clara", "Daniel", "David", "Diana", "Diego", "Dmitri", "Elena", "Eli",
    "Elijah", "Emily", "Emma", "Ethan", "Fatima", "Felix", "Fernando", "Fiona", "Gabriel",
    "Grace", "Hannah", "Hassan", "Hiroshi", "Ian", "Isaac", "Isabella", "Ivan", "Jack", "Jacob",
    "James", "Jasmine", "Javier", "Jessica", "Ji-woo", "Joao", "John", "Jordan", "Jose",
    "Joshua", "Julia", "Julian", "Kai", "Karen", "Kavya", "Kenji", "Kevin", "Kim", "Laura",
    "Leah", "Leila", "Leo", "Liam", "Lucas", "Lucia", "Luis", "Maya", "Marco", "Maria", "Mateo",
    "Matthew", "Mei", "Mia", "Michael", "Mohammed", "Naomi", "Nathan", "Nia", "Nikhil", "Noah",
    "Nora", "Olivia", "Omar", "Oscar", "Owen", "Pablo", "Priya", "Rachel", "Rahul", "Rebecca",
    "Ricardo", "Rosa", "Ryan", "Samuel", "Sara", "Sebastian", "Sofia", "Sophie", "Sunita",
    "Tariq", "Thomas", "Tyler", "Valentina", "Victor", "Wei", "William", "Yara", "Yusuf",
    "Zara", "Zoe",
)

LAST_NAMES = (
    "Abbott", "Adams", "Ahmed", "Alvarez", "Anderson", "Baker", "Banerjee", "Bennett", "Brooks",
    "Brown", "Campbell", "Carter", "Castillo", "Chang", "Chen", "Clark", "Collins", "Cooper",
    "Cruz", "Das", "Davis", "Diaz", "Dubois", "Edwards", "Evans", "Fischer", "Flores", "Foster",
    "Garcia", "Gomez", "Gonzalez", "Gray", "Green", "Gupta", "Hall", "Harris", "Hernandez",
    "Hill", "Hoffmann", "Hughes", "Ibrahim", "Ito", "Jackson", "James", "Jensen", "Johnson",
    "Jones", "Kelly", "Khan", "Kim", "Kowalski", "Kumar", "Lee", "Lewis", "Li", "Lopez",
    "Martin", "Martinez", "Mehta", "Meyer", "Miller", "Mitchell", "Moore", "Morales", "Morgan",
    "Murphy", "Nakamura", "Nguyen", "Novak", "O'Brien", "Okafor", "Olsen", "Ortiz", "Park",
    "Patel", "Perez", "Peterson", "Phillips", "Price", "Ramirez", "Reddy", "Reyes",
    "Richardson", "Rivera", "Roberts", "Robinson", "Rodriguez", "Rossi", "Russell", "Sanchez",
    "Santos", "Schmidt", "Scott", "Shah", "Silva", "Singh", "Smith", "Sullivan", "Suzuki",
    "Tanaka", "Taylor", "Thomas", "Thompson", "Torres", "Tran", "Turner", "Walker", "Wang",
    "Ward", "Watson", "Weber", "White", "Williams", "Wilson", "Wong", "Wright", "Wu",
    "Yamamoto", "Yang", "Young", "Zhang",
)

DEMO_ADMIN_EMAIL = "admin@acme.example"
DEMO_MANAGER_EMAIL = "manager@acme.example"
DEMO_ADMIN_NAME = "Avery Admin"
DEMO_MANAGER_NAME = "Morgan Manager"
EMAIL_DOMAIN = "acme.example"

# --- Knobs ----------------------------------------------------------------------------------------

# Below this the manager structure (admin, a two-team manager, a manager without a team, ...)
# cannot be staffed.
MIN_USERS = 10
ROW_GROUP_ROWS = 100_000  # small enough for DuckDB to skip row groups by their ts min/max
PRICES_VALID_FROM = date(2025, 1, 1)

NEVER_ADOPT_SHARE = 0.22
PRE_WINDOW_ADOPTER_SHARE = 0.4  # of adopters created before the window: adopted before it too
CHURN_SHARE = 0.06  # of adopters: stop using it
LEFT_SHARE = 0.04  # of everyone: left the company (active=False) during the window
HIRED_SHARE_PER_180_DAYS = 0.12
ADMINS_PER_USER = 1 / 300
TWO_MANAGER_TEAM_SHARE = 0.08  # a team this big (share of users, and >= 12 people) has 2 managers

# Chance that an adopter uses it on a given day, Monday..Sunday, times their own `activity`.
WEEKDAY_ACTIVITY = (1.0, 1.05, 1.05, 1.0, 0.85, 0.09, 0.06)
WEEKEND_INTENSITY = 0.6  # fewer conversations on a weekend day, when people use it at all
MEDIAN_EXTRA_CONVERSATIONS = 5.0  # per active day on top of the first; lognormal across people
INTENSITY_SIGMA = 1.0
TURN_P = 0.27  # interactions per conversation ~ geometric, mean 1 / TURN_P
MAX_TURNS = 40
FAVORITE_SHARE = 0.35  # of conversations go to the person's favourite agent
ALT_MODEL_SHARE = 0.12  # of an agent's conversations use its alternative model
ZIPF_EXPONENT = 1.0
AFFINITY_OWNER, AFFINITY_RELEVANT, AFFINITY_GENERAL, AFFINITY_OTHER = 4.0, 3.0, 1.0, 0.05

# The cost spike: one busy agent runs on the most expensive model with a verbose prompt.
SPIKE_MODEL = "claude-opus-4.1"
SPIKE_DAYS = 9
SPIKE_INPUT_FACTOR = 2.5
SPIKE_OUTPUT_FACTOR = 6.0

NEVER = 10**9  # an adoption day that never comes
DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
EPOCH = date(1970, 1, 1)
MODEL_INDEX = {model.name: i for i, model in enumerate(MODELS)}
# Prices in micro-dollars per million tokens: exact integers, so cost needs no float.
INPUT_MICRO_PER_MTOK = np.array([int(m.input_usd_per_mtok * 10**6) for m in MODELS], np.int64)
OUTPUT_MICRO_PER_MTOK = np.array([int(m.output_usd_per_mtok * 10**6) for m in MODELS], np.int64)
MS_PER_OUTPUT_TOKEN = np.array([m.ms_per_output_token for m in MODELS])
EVENTS_ARROW = pl.DataFrame(schema=schema.EVENTS).to_arrow().schema
DIRECTORY_SCHEMAS = schema.DIRECTORY


@dataclass(frozen=True)
class DemoSummary:
    users: int
    teams: int
    agents: int
    events: int
    first_date: date  # first local day with data
    last_date: date  # last local day with data


class DemoDataExistsError(FileExistsError):
    """The target folder holds Telemetry data already and overwrite was not asked for."""


@dataclass
class _Users:
    """People; days are window day numbers (0 = first day, negative = before the window)."""

    team: np.ndarray  # team index
    role: list[str]
    managed: list[tuple[int, int]]  # (user index, team index) rows of team_managers
    created_day: np.ndarray
    created_us: np.ndarray  # UTC microseconds
    active: np.ndarray
    adopt_day: np.ndarray  # first day of use, NEVER for people who never adopt
    stop_day: np.ndarray  # last day of use: churn, leaving the company, or the window's end
    sure_day: np.ndarray  # a day with at least one conversation, so every adopter shows up
    activity: np.ndarray  # chance to use it on a weekday
    intensity: np.ndarray  # extra conversations on an active day; heavy-tailed
    chronotype: np.ndarray  # hours earlier (-) or later (+) than the office rhythm
    favorite: np.ndarray  # agent index


@dataclass
class _Agents:
    specs: list[Agent]
    owner: list[int]  # team index
    launch_day: np.ndarray  # first window day it can be used; created_at is the day before
    created_us: np.ndarray
    model: np.ndarray  # model index
    alt_model: np.ndarray  # model index or -1
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    error_rate: np.ndarray
    team_weights: np.ndarray  # [team, agent]: how likely a team's member picks each agent


@dataclass
class _Org:
    seed: int
    tz: str
    first_date: date
    days: int
    teams: tuple[Team, ...]
    names: list[str]
    emails: list[str]
    users: _Users
    agents: _Agents
    spike_agent: int
    spike_days: range


# --- Public API -----------------------------------------------------------------------------------


def write_demo(
    out_dir: Path,
    users: int = 1000,
    days: int = 180,
    seed: int = 42,
    end: date | None = None,
    tz: str = "UTC",
    overwrite: bool = False,
) -> DemoSummary:
    """Write the demo org into out_dir/events and out_dir/directory.

    `end` is the last local day with data (default: today in `tz`), `days` local days end there.
    Everything is written into a hidden staging folder inside out_dir first; then `events/` and
    `directory/` are swapped in, in that order, each by one rename. Only those two folders are
    replaced: out_dir may hold other things (it defaults to the app's DATA_DIR).
    """
    out_dir = Path(out_dir)
    check_arguments(users, days, tz)
    if has_data(out_dir) and not overwrite:
        raise DemoDataExistsError(
            f"{out_dir} already holds Telemetry data (events/ or directory/); "
            "pass overwrite=True (--overwrite) to replace it"
        )
    # With the default end (today), stop at this moment: no events from later today.
    until_us = None if end else int(datetime.now(ZoneInfo("UTC")).timestamp() * 1_000_000)
    end = end or datetime.now(ZoneInfo(tz)).date()
    org = _plan_org(users, days, seed, end - timedelta(days=days - 1), tz)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-staging-", dir=out_dir))
    try:
        events = _write_events(org, schema.events_dir(staging), until_us)
        _write_directory(org, schema.directory_dir(staging))
        _swap_into_place(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return DemoSummary(users, len(org.teams), len(org.agents.specs), events, org.first_date, end)


def check_arguments(users: int, days: int, tz: str) -> None:
    """Raise ValueError with a message fit for a person if the demo cannot be built."""
    if users < MIN_USERS:
        raise ValueError(f"users must be at least {MIN_USERS} (got {users})")
    if days < 1:
        raise ValueError(f"days must be at least 1 (got {days})")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r} (use an IANA name like Europe/Paris)") from None


def has_data(out_dir: Path) -> bool:
    return schema.has_events(out_dir) or any(schema.directory_dir(out_dir).glob("*.parquet"))


def _plan_org(users: int, days: int, seed: int, first_date: date, tz: str) -> _Org:
    """Everything about the org except its events, which are drawn day by day when written."""
    rng = np.random.default_rng([seed, 0])
    teams = TEAMS[: int(np.clip(round(5 * math.log10(users)), 5, len(TEAMS)))]
    team = _assign_teams(rng, users, teams)
    names, emails = _names_and_emails(rng, users)
    agents = _plan_agents(rng, users, days, teams, _day_number(first_date), tz)
    people = _plan_users(rng, team, teams, days, agents, _day_number(first_date), tz)
    spike_agent, spike_days = _plan_spike(agents, np.bincount(team, minlength=len(teams)), days)
    return _Org(seed, tz, first_date, days, teams, names, emails, people, agents,
                spike_agent, spike_days)


# --- Local time -----------------------------------------------------------------------------------


def _day_number(day: date) -> int:
    return (day - EPOCH).days


@lru_cache(maxsize=8192)
def _hour_offsets_us(day_number: int, tz: str) -> tuple[int, ...]:
    """UTC offset in µs at half past each local hour of a day.

    Per hour, so a DST change at 02:00 moves the rest of the day; in the skipped or repeated hour
    zoneinfo (PEP 495, fold=0) gives the offset from before the change, which is a real instant.
    """
    day = EPOCH + timedelta(days=day_number)
    zone = ZoneInfo(tz)
    return tuple(
        datetime(day.year, day.month, day.day, hour, 30, tzinfo=zone).utcoffset()
        // timedelta(microseconds=1)
        for hour in range(24)
    )


def _local_to_utc_us(day_number: int, wall_us: np.ndarray, tz: str) -> np.ndarray:
    """UTC µs since the epoch of local wall-clock times (µs after midnight) on one local day."""
    offsets = np.array(_hour_offsets_us(day_number, tz), dtype=np.int64)
    hours = np.clip(wall_us // HOUR_US, 0, 23)
    return day_number * DAY_US + wall_us - offsets[hours]


def _office_hours_utc_us(rng: np.random.Generator, day_numbers: np.ndarray, tz: str) -> np.ndarray:
    """A random moment between 09:00 and 17:00 local on each given day (for created_at)."""
    wall_us = rng.integers(9 * HOUR_US, 17 * HOUR_US, day_numbers.size)
    return np.array(
        [_local_to_utc_us(int(d), w, tz) for d, w in zip(day_numbers, wall_us, strict=True)],
        dtype=np.int64,
    )


# --- The directory --------------------------------------------------------------------------------


def _assign_teams(rng: np.random.Generator, users: int, teams: tuple[Team, ...]) -> np.ndarray:
    """Team index per user: uneven sizes by weight, at least one or two people per team."""
    keys = [t.key for t in teams]
    weights = np.array([t.weight for t in teams])
    rest = users - 2
    floor = 2 if rest >= 2 * len(teams) else 1
    counts = floor + rng.multinomial(rest - floor * len(teams), weights / weights.sum())
    team = np.empty(users, dtype=np.int64)
    # The demo admin sits in IT (or Engineering), the demo manager in Sales.
    team[0] = keys.index("it") if "it" in keys else keys.index("engineering")
    team[1] = keys.index("sales")
    team[2:] = rng.permutation(np.repeat(np.arange(len(teams)), counts))
    return team


def _email_part(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalnum() or c == "-")


def _names_and_emails(rng: np.random.Generator, users: int) -> tuple[list[str], list[str]]:
    """Full names and unique first.last emails; a repeated name gets a digit (jo.kim2@...)."""
    firsts = rng.integers(len(FIRST_NAMES), size=users)
    lasts = rng.integers(len(LAST_NAMES), size=users)
    names = [DEMO_ADMIN_NAME, DEMO_MANAGER_NAME]
    emails = [DEMO_ADMIN_EMAIL, DEMO_MANAGER_EMAIL]
    seen: dict[str, int] = {}
    for first, last in zip(firsts[2:], lasts[2:], strict=True):
        names.append(f"{FIRST_NAMES[first]} {LAST_NAMES[last]}")
        local = f"{_email_part(FIRST_NAMES[first])}.{_email_part(LAST_NAMES[last])}"
        seen[local] = seen.get(local, 0) + 1
        suffix = str(seen[local]) if seen[local] > 1 else ""
        emails.append(f"{local}{suffix}@{EMAIL_DOMAIN}")
    return names, emails


def _pick(rng: np.random.Generator, *masks: np.ndarray) -> int:
    """A random index where the first non-empty mask is true."""
    for mask in masks:
        candidates = np.flatnonzero(mask)
        if candidates.size:
            return int(candidates[rng.integers(candidates.size)])
    raise RuntimeError("no one left to pick")  # cannot happen for users >= MIN_USERS


def _assign_roles(
    rng: np.random.Generator, team: np.ndarray, teams: tuple[Team, ...], hired: np.ndarray
) -> tuple[list[str], list[tuple[int, int]]]:
    """Admins, team managers (one or two per team, some run two teams, one has none yet)."""
    users = team.size
    keys = [t.key for t in teams]
    special = np.zeros(users, dtype=bool)
    special[:2] = True
    admins = [0, *(2 + rng.choice(users - 2, max(1, round(users * ADMINS_PER_USER)) - 1, False))]
    special[admins] = True
    sales, marketing = keys.index("sales"), keys.index("marketing")
    managed = [(1, sales), (1, marketing)]
    # Another manager runs the two smallest teams (besides Sales and Marketing).
    sizes = np.bincount(team, minlength=len(teams))
    smallest = [int(t) for t in np.argsort(sizes, kind="stable") if t not in (sales, marketing)]
    pair = _pick(rng, (team == smallest[0]) & ~special, ~special)
    special[pair] = True
    managed += [(pair, smallest[0]), (pair, smallest[1])]
    wanted = np.where(sizes >= max(12, TWO_MANAGER_TEAM_SHARE * users), 2, 1)
    for t in range(len(teams)):
        while sum(1 for _, m in managed if m == t) < wanted[t]:
            manager = _pick(rng, (team == t) & ~special, ~special)
            special[manager] = True
            managed.append((manager, t))
    # A newly promoted manager (preferably a recent hire) with no team yet.
    unassigned = _pick(rng, hired & ~special, ~special)
    roles = ["member"] * users
    for user in [unassigned, *(m for m, _ in managed)]:
        roles[user] = "manager"
    for user in admins:
        roles[user] = "admin"
    return roles, sorted(managed, key=lambda row: (row[1], row[0]))


def _uniform_int(u: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Integers uniform in [low, high] from uniforms u; meaningless where high < low."""
    return low + np.floor(u * np.maximum(high - low + 1, 1)).astype(np.int64)


def _created_days(rng: np.random.Generator, users: int, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Account creation day and whether the person was hired during the window."""
    hired = np.zeros(users, dtype=bool)
    if days >= 2:  # a hire needs a day to be created on before their first day of use
        count = max(1, round(min(0.25, HIRED_SHARE_PER_180_DAYS * days / 180) * users))
        hired[2 + rng.choice(users - 2, count, replace=False)] = True
    # A growing company: more people joined recently than years ago.
    before = -1 - np.floor(1500 * rng.beta(1.0, 1.8, users)).astype(np.int64)
    during = rng.integers(0, max(days - 1, 1), users)
    created = np.where(hired, during, before)
    created[:2] = -700
    return created, hired


def _adoption_days(rng: np.random.Generator, created: np.ndarray, days: int) -> np.ndarray:
    """First day of use: some before the window, most spread over it; NEVER for some."""
    users = created.size
    never = np.zeros(users, dtype=bool)
    never[2 + rng.choice(users - 2, round(NEVER_ADOPT_SHARE * users), replace=False)] = True
    early = (created <= -2) & (rng.random(users) < PRE_WINDOW_ADOPTER_SHARE)
    early_day = _uniform_int(rng.random(users), np.maximum(created + 1, -300), np.full(users, -1))
    low = np.maximum(created + 1, 0)
    late_day = low + np.floor(rng.beta(1.3, 2.2, users) * (days - low)).astype(np.int64)
    adopt = np.where(early, early_day, np.minimum(late_day, days - 1))
    adopt[:2] = early_day[:2]  # the demo admin and manager have used it for a while
    return np.where(never, NEVER, adopt)


def _stop_days(
    rng: np.random.Generator, adopt: np.ndarray, created: np.ndarray, days: int, special: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Last day of use and whether the person is still with the company."""
    users = adopt.size
    adopter = adopt < NEVER
    first = np.maximum(adopt, 0)
    last = np.full(users, days - 1)
    churn = adopter & ~special & (rng.random(users) < CHURN_SHARE) & (first + 7 <= days - 1)
    stop = np.where(churn, _uniform_int(rng.random(users), first + 7, last), last)
    # Leavers: no events from the day they left, at least a week before the window's end.
    candidates = np.flatnonzero(~special & (created < 0) & ~churn)
    left = np.zeros(users, dtype=bool)
    left[rng.choice(candidates, min(candidates.size, round(LEFT_SHARE * users)), False)] = True
    leave_low = np.where(adopter, first + 1, 1)
    leave_high = np.full(users, days - 8)
    leave = _uniform_int(rng.random(users), leave_low, leave_high)
    stop = np.where(left, np.where(leave_high >= leave_low, leave - 1, -1), stop)
    return stop, ~left


def _sure_days(rng: np.random.Generator, adopt: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """The adoption day, or a random day in use for those who adopted before the window."""
    first = np.maximum(adopt, 0)
    sure = np.where(adopt >= 0, adopt, _uniform_int(rng.random(adopt.size), first, stop))
    return np.where((adopt < NEVER) & (stop >= first), sure, -1)


def _draw_agents(
    rng: np.random.Generator, weights: np.ndarray, team: np.ndarray, available: np.ndarray
) -> np.ndarray:
    """An agent index per row, drawn from its team's weights over the available agents."""
    cdf = np.cumsum(weights * available, axis=1)
    cdf /= cdf[:, -1:]  # the last entry is exactly 1.0, so u < 1 never runs past the end
    u = rng.random(team.size)
    agent = np.empty(team.size, dtype=np.int64)
    for t in range(weights.shape[0]):
        rows = team == t
        # side="right" skips agents with zero weight (cdf flat there), like Generator.choice.
        agent[rows] = np.searchsorted(cdf[t], u[rows], side="right")
    return agent


def _plan_users(
    rng: np.random.Generator,
    team: np.ndarray,
    teams: tuple[Team, ...],
    days: int,
    agents: _Agents,
    first_day: int,
    tz: str,
) -> _Users:
    users = team.size
    created, hired = _created_days(rng, users, days)
    roles, managed = _assign_roles(rng, team, teams, hired)
    special = np.array([role != "member" for role in roles])
    adopt = _adoption_days(rng, created, days)
    stop, active = _stop_days(rng, adopt, created, days, special)
    return _Users(
        team=team,
        role=roles,
        managed=managed,
        created_day=created,
        created_us=_office_hours_utc_us(rng, first_day + created, tz),
        active=active,
        adopt_day=adopt,
        stop_day=stop,
        sure_day=_sure_days(rng, adopt, stop),
        activity=rng.beta(3.0, 1.8, users),
        intensity=np.minimum(
            rng.lognormal(math.log(MEDIAN_EXTRA_CONVERSATIONS), INTENSITY_SIGMA, users), 80.0
        ),
        chronotype=rng.normal(0.0, 0.6, users),
        favorite=_draw_agents(rng, agents.team_weights, team, np.ones(len(agents.specs), bool)),
    )


def _choose_agents(users: int, teams: tuple[Team, ...]) -> tuple[list[Agent], list[int]]:
    """The org's agents in popularity order, and each one's owner team index."""
    keys = [t.key for t in teams]
    count = int(np.clip(round(8 * math.log10(users) + 6), 8, len(AGENTS)))
    # Prefer agents whose owner team exists; others are owned by Engineering.
    ranked = sorted(range(len(AGENTS)), key=lambda i: (AGENTS[i].owner not in keys, i))
    chosen = sorted(ranked[:count])
    owner_of = [AGENTS[i].owner if AGENTS[i].owner in keys else "engineering" for i in chosen]
    return [AGENTS[i] for i in chosen], [keys.index(owner) for owner in owner_of]


def _affinity(agent: Agent, owner: int, teams: tuple[Team, ...]) -> np.ndarray:
    """How much each team reaches for this agent, before popularity."""
    affinity = np.full(len(teams), AFFINITY_GENERAL if agent.general else AFFINITY_OTHER)
    for t, team in enumerate(teams):
        if team.key in agent.relevant:
            affinity[t] = AFFINITY_RELEVANT
    affinity[owner] = AFFINITY_OWNER
    return affinity


def _launch_days(rng: np.random.Generator, count: int, days: int) -> np.ndarray:
    """The 3 most popular and ~45% in all exist before the window; the rest launch during it."""
    order = np.concatenate([np.arange(min(3, count)), 3 + rng.permutation(max(count - 3, 0))])
    before = max(min(3, count), math.ceil(0.45 * count))
    launch = np.empty(count, dtype=np.int64)
    launch[order[:before]] = -1 - rng.integers(0, 400, before)
    latest = max(2, days - max(7, days // 10))
    launch[order[before:]] = rng.integers(1, latest, count - before)
    return launch


def _plan_agents(
    rng: np.random.Generator,
    users: int,
    days: int,
    teams: tuple[Team, ...],
    first_day: int,
    tz: str,
) -> _Agents:
    specs, owner = _choose_agents(users, teams)
    count = len(specs)
    popularity = (1.0 / np.arange(1, count + 1)) ** ZIPF_EXPONENT * rng.lognormal(0, 0.25, count)
    affinity = np.stack([_affinity(a, o, teams) for a, o in zip(specs, owner, strict=True)], 1)
    launch = _launch_days(rng, count, days)
    return _Agents(
        specs=specs,
        owner=owner,
        launch_day=launch,
        created_us=_office_hours_utc_us(rng, first_day + launch - 1, tz),
        model=np.array([MODEL_INDEX[a.model] for a in specs]),
        alt_model=np.array([MODEL_INDEX[a.alt_model] if a.alt_model else -1 for a in specs]),
        input_tokens=np.array([a.input_tokens for a in specs], dtype=np.float64),
        output_tokens=np.array([a.output_tokens for a in specs], dtype=np.float64),
        error_rate=np.array([a.error_rate for a in specs]),
        team_weights=affinity * popularity,
    )


def _plan_spike(agents: _Agents, team_sizes: np.ndarray, days: int) -> tuple[int, range]:
    """The third busiest agent at the time runs on SPIKE_MODEL for about SPIKE_DAYS days."""
    length = min(SPIKE_DAYS, max(1, days // 5))
    start = min(int(days * 0.62), days - length)
    shares = agents.team_weights / agents.team_weights.sum(axis=1, keepdims=True)
    expected = team_sizes @ shares
    ranked = [int(a) for a in np.argsort(-expected, kind="stable") if agents.launch_day[a] <= start]
    return ranked[min(2, len(ranked) - 1)], range(start, start + length)


def _directory_frames(org: _Org) -> dict[str, pl.DataFrame]:
    users, agents = org.users, org.agents
    team_ids = [t.team_id for t in org.teams]
    frames = {
        "users": pl.DataFrame(
            {
                "user_id": _user_ids(users.team.size),
                "name": org.names,
                "email": org.emails,
                "team_id": [team_ids[t] for t in users.team],
                "role": users.role,
                "created_at": users.created_us,
                "active": users.active,
            }
        ),
        "teams": pl.DataFrame({"team_id": team_ids, "name": [t.name for t in org.teams]}),
        "team_managers": pl.DataFrame(
            {
                "user_id": [_user_ids(users.team.size)[u] for u, _ in users.managed],
                "team_id": [team_ids[t] for _, t in users.managed],
            }
        ),
        "agents": pl.DataFrame(
            {
                "agent_id": [a.agent_id for a in agents.specs],
                "name": [a.name for a in agents.specs],
                "owner_team_id": [team_ids[t] for t in agents.owner],
                "created_at": agents.created_us,
            }
        ),
        "prices": _prices_frame(min(PRICES_VALID_FROM, org.first_date - timedelta(days=1))),
    }
    return {name: frame.cast(dict(DIRECTORY_SCHEMAS[name])) for name, frame in frames.items()}


def _prices_frame(valid_from: date) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "model": [m.name for m in MODELS],
            "input_usd_per_mtok": pl.Series(
                [m.input_usd_per_mtok for m in MODELS], dtype=schema.COST
            ),
            "output_usd_per_mtok": pl.Series(
                [m.output_usd_per_mtok for m in MODELS], dtype=schema.COST
            ),
            "valid_from": [valid_from] * len(MODELS),
            "valid_to": pl.Series([None] * len(MODELS), dtype=pl.Date),
        }
    )


def _user_ids(users: int) -> list[str]:
    return [f"u_{i:05d}" for i in range(1, users + 1)]


def _write_directory(org: _Org, directory: Path) -> None:
    directory.mkdir(parents=True)
    for name, frame in _directory_frames(org).items():
        frame.write_parquet(directory / f"{name}.parquet", compression="zstd")


# --- Events ---------------------------------------------------------------------------------------


def _conversation_counts(org: _Org, day: int, rng: np.random.Generator) -> np.ndarray:
    """Conversations each person starts on a window day (0 for most on a weekend)."""
    users = org.users
    weekday = (org.first_date + timedelta(days=day)).weekday()
    in_use = (users.adopt_day <= day) & (day <= users.stop_day)
    drawn = rng.random(users.team.size) < users.activity * WEEKDAY_ACTIVITY[weekday]
    on = in_use & (drawn | (users.sure_day == day))
    # Usage deepens over the window as people find more uses for it.
    growth = 0.85 + 0.3 * day / max(org.days - 1, 1)
    weekend = WEEKEND_INTENSITY if weekday >= 5 else 1.0
    noise = rng.gamma(2.0, 0.5, users.team.size)
    extra = rng.poisson(users.intensity * noise * growth * weekend)
    return np.where(on, 1 + extra, 0)


def _start_seconds(rng: np.random.Generator, weekend: bool, chronotype: np.ndarray) -> np.ndarray:
    """Local start time of each conversation: morning and afternoon peaks, a lunch dip."""
    if weekend:
        means, sds, shares = (11.5, 15.5, 21.0), (1.8, 2.0, 1.5), (0.35, 0.35, 0.15, 0.15)
    else:
        means, sds, shares = (10.3, 14.8, 20.5), (1.3, 1.5, 1.5), (0.42, 0.40, 0.10, 0.08)
    part = rng.choice(4, size=chronotype.size, p=shares)  # 3: any time of the waking day
    peak = np.minimum(part, 2)
    hours = rng.normal(np.take(means, peak), np.take(sds, peak)) + chronotype
    hours = np.where(part == 3, rng.uniform(7.0, 23.5, chronotype.size), hours)
    return np.clip(hours, 0.0, 23.99) * 3600.0


def _conversations(org: _Org, day: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One row per conversation: who, which agent and model, when it starts."""
    counts = _conversation_counts(org, day, rng)
    user = np.repeat(np.arange(counts.size), counts)
    agents = org.agents
    available = agents.launch_day <= day
    agent = _draw_agents(rng, agents.team_weights, org.users.team[user], available)
    favorite = org.users.favorite[user]
    use_favorite = (rng.random(user.size) < FAVORITE_SHARE) & available[favorite]
    agent = np.where(use_favorite, favorite, agent)
    alt = agents.alt_model[agent]
    use_alt = (alt >= 0) & (rng.random(user.size) < ALT_MODEL_SHARE)
    model = np.where(use_alt, alt, agents.model[agent])
    spike = (agent == org.spike_agent) & (day in org.spike_days)
    model = np.where(spike, MODEL_INDEX[SPIKE_MODEL], model)
    weekend = (org.first_date + timedelta(days=day)).weekday() >= 5
    start = _start_seconds(rng, weekend, org.users.chronotype[user])
    return {"user": user, "agent": agent, "model": model, "spike": spike, "start": start}


def cost_micro_usd(
    input_tokens: np.ndarray, output_tokens: np.ndarray, model: np.ndarray
) -> np.ndarray:
    """Exact cost in whole micro-dollars.

    tokens × (micro-dollars per million tokens) is an exact integer in units of 1e-12 dollars;
    the sum for input and output is rounded once, half up, to a micro-dollar.
    """
    exact = input_tokens * INPUT_MICRO_PER_MTOK[model]
    exact += output_tokens * OUTPUT_MICRO_PER_MTOK[model]
    return (exact + 500_000) // 1_000_000


def _tokens_and_status(
    agents: _Agents,
    agent: np.ndarray,
    spike: np.ndarray,
    turn: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input tokens, output tokens and error flag per interaction."""
    size = turn.size
    # Each turn resends the conversation so far, so input grows along the conversation.
    input_scale = np.where(spike, SPIKE_INPUT_FACTOR, 1.0) * (1.0 + 0.3 * turn)
    input_tokens = agents.input_tokens[agent] * rng.lognormal(0.0, 0.7, size) * input_scale
    output_scale = np.where(spike, SPIKE_OUTPUT_FACTOR, 1.0)
    output_tokens = agents.output_tokens[agent] * rng.lognormal(0.0, 0.6, size) * output_scale
    error = rng.random(size) < agents.error_rate[agent]
    # A failed call was still sent (and billed) its input; it returns nothing or a few tokens.
    error_output = np.where(rng.random(size) < 0.75, 0, rng.integers(1, 41, size))
    output_tokens = np.where(error, error_output, np.clip(np.rint(output_tokens), 1, 32_000))
    input_tokens = np.clip(np.rint(input_tokens), 20, 400_000)
    return input_tokens.astype(np.int64), output_tokens.astype(np.int64), error


def _latency_ms(
    model: np.ndarray,
    input_tokens: np.ndarray,
    output_tokens: np.ndarray,
    error: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Mostly streaming time of the output; failed calls either time out or fail fast."""
    size = error.size
    streaming = 350 + output_tokens * MS_PER_OUTPUT_TOKEN[model] + 0.02 * input_tokens
    ok = streaming * rng.lognormal(0.0, 0.25, size)
    timeout = rng.random(size) < 0.35
    failed = np.where(timeout, rng.uniform(30_000, 60_000, size), rng.uniform(150, 2_500, size))
    return np.clip(np.rint(np.where(error, failed, ok)), 50, 120_000).astype(np.int32)


def _wall_us(
    start: np.ndarray,
    turns: np.ndarray,
    first: np.ndarray,
    conv_of: np.ndarray,
    latency: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Local µs after midnight of each interaction; conversations are kept inside the day.

    `start` and `turns` are per conversation; `first` is the row of each one's first turn and
    `conv_of` the conversation of each row.
    """
    think = np.minimum(rng.lognormal(math.log(40.0), 0.9, conv_of.size), 1800.0)
    step = think + np.concatenate([[0.0], latency[:-1] / 1000.0])  # wait for the previous reply
    step[first] = 0.0
    elapsed = np.cumsum(step)
    elapsed -= elapsed[first][conv_of]
    last = first + turns - 1
    duration = elapsed[last] + latency[last] / 1000.0
    start = np.clip(np.minimum(start, 86_399.0 - duration), 0.0, None)
    return np.minimum(((start[conv_of] + elapsed) * 1e6).astype(np.int64), DAY_US - 1)


def _day_events(org: _Org, day: int) -> dict[str, np.ndarray]:
    """Events of one local window day as numpy columns (indices into the directory), by ts."""
    rng = np.random.default_rng([org.seed, 1, day])
    conv = _conversations(org, day, rng)
    turns = np.minimum(rng.geometric(TURN_P, conv["user"].size), MAX_TURNS)
    conv_of = np.repeat(np.arange(turns.size), turns)
    first = np.cumsum(turns) - turns
    turn = np.arange(conv_of.size) - first[conv_of]
    per_turn = {name: values[conv_of] for name, values in conv.items()}
    input_tokens, output_tokens, error = _tokens_and_status(
        org.agents, per_turn["agent"], per_turn["spike"], turn, rng
    )
    model = per_turn["model"]
    latency = _latency_ms(model, input_tokens, output_tokens, error, rng)
    wall_us = _wall_us(conv["start"], turns, first, conv_of, latency, rng)
    ts = _local_to_utc_us(_day_number(org.first_date) + day, wall_us, org.tz)
    order = np.argsort(ts, kind="stable")
    columns = {
        "ts": ts,
        "user": per_turn["user"],
        "agent": per_turn["agent"],
        "model": model,
        "conversation": conv_of,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_micro_usd": cost_micro_usd(input_tokens, output_tokens, model),
        "latency_ms": latency,
        "error": error,
    }
    return {name: values[order] for name, values in columns.items()}


_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_NIBBLE_SHIFTS = np.arange(60, -4, -4, dtype=np.uint64)


def _mix64(values: np.ndarray, key: int) -> np.ndarray:
    """A bijection on uint64 (splitmix64's finalizer): unique ids that look random."""
    x = values.astype(np.uint64) ^ np.uint64(key)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def _hex_ids(prefix: str, numbers: np.ndarray, key: int) -> pa.Array:
    """Strings prefix + 16 hex digits, built straight into an Arrow buffer (no Python loop)."""
    mixed = _mix64(numbers, key)
    digits = _HEX_DIGITS[((mixed[:, None] >> _NIBBLE_SHIFTS) & np.uint64(15)).astype(np.intp)]
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    width = head.size + 16
    chars = np.empty((numbers.size, width), dtype=np.uint8)
    chars[:, : head.size] = head
    chars[:, head.size :] = digits
    offsets = np.arange(numbers.size + 1, dtype=np.int64) * width
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(chars)]
    return pa.Array.from_buffers(pa.large_string(), numbers.size, buffers)


def _decimal_usd(micro: np.ndarray) -> pa.Array:
    """Decimal(18, 6) dollars from integer micro-dollars, without a float in between.

    A decimal128 value is its unscaled integer as 16 little-endian bytes: low word, sign word.
    """
    words = np.empty((micro.size, 2), dtype=np.int64)
    words[:, 0] = micro
    words[:, 1] = micro >> 63
    return pa.Array.from_buffers(pa.decimal128(18, 6), micro.size, [None, pa.py_buffer(words)])


@dataclass
class _Lookups:
    """Arrow arrays the events' index columns are turned into strings with."""

    user_id: pa.Array
    team_id: pa.Array
    agent_id: pa.Array
    model: pa.Array
    status: pa.Array
    event_key: int
    conversation_key: int

    @classmethod
    def of(cls, org: _Org) -> _Lookups:
        team_ids = [t.team_id for t in org.teams]
        keys = np.random.default_rng([org.seed, 2]).integers(0, 2**63, 2)
        return cls(
            user_id=pa.array(_user_ids(org.users.team.size)),
            team_id=pa.array([team_ids[t] for t in org.users.team]),
            agent_id=pa.array([a.agent_id for a in org.agents.specs]),
            model=pa.array([m.name for m in MODELS]),
            status=pa.array(list(schema.STATUSES)),
            event_key=int(keys[0]),
            conversation_key=int(keys[1]),
        )


def _events_table(
    lookups: _Lookups, columns: dict[str, np.ndarray], first_event: int, first_conversation: int
) -> pa.Table:
    """The day's columns as an Arrow table in the exact schema.EVENTS layout."""
    size = columns["ts"].size
    arrays = {
        "event_id": _hex_ids("evt_", np.arange(first_event, first_event + size), lookups.event_key),
        "ts": pa.array(columns["ts"], pa.timestamp("us", tz="UTC")),
        "user_id": lookups.user_id.take(columns["user"]),
        "team_id": lookups.team_id.take(columns["user"]),
        "agent_id": lookups.agent_id.take(columns["agent"]),
        "model": lookups.model.take(columns["model"]),
        "conversation_id": _hex_ids(
            "conv_", first_conversation + columns["conversation"], lookups.conversation_key
        ),
        "input_tokens": pa.array(columns["input_tokens"]),
        "output_tokens": pa.array(columns["output_tokens"]),
        "cost_usd": _decimal_usd(columns["cost_micro_usd"]),
        "latency_ms": pa.array(columns["latency_ms"]),
        "status": lookups.status.take(columns["error"].astype(np.int8)),
    }
    return pa.table(arrays).cast(EVENTS_ARROW)


class _PartitionWriter:
    """Writes one file per UTC date once no later local day can add to it.

    A local day spans two UTC dates, so each date collects rows from two consecutive local days;
    both pieces are sorted by ts and the earlier day's come first, so the file is sorted too.
    """

    def __init__(self, events_dir: Path) -> None:
        self.events_dir = events_dir
        self.pending: dict[int, list[pa.Table]] = {}
        self.written: set[int] = set()
        self.rows = 0

    def add(self, table: pa.Table, ts: np.ndarray) -> None:
        """Queue a local day's rows (sorted by ts) and write the dates it leaves behind."""
        if not ts.size:
            return
        utc_days = ts // DAY_US
        cuts = np.flatnonzero(np.diff(utc_days)) + 1
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, ts.size], strict=True):
            self.pending.setdefault(int(utc_days[lo]), []).append(table.slice(lo, hi - lo))
        self.flush(before=int(utc_days[0]))

    def flush(self, before: int | None = None) -> None:
        for utc_day in sorted(self.pending):
            if before is None or utc_day < before:
                self._write(utc_day, pa.concat_tables(self.pending.pop(utc_day)))

    def _write(self, utc_day: int, table: pa.Table) -> None:
        if utc_day in self.written:
            raise RuntimeError(f"UTC day {utc_day} would be written twice")
        ts = table.column("ts").cast(pa.int64()).to_numpy()
        if np.any(np.diff(ts) < 0):  # only if a DST change at midnight reordered two local days
            table = table.take(pc.sort_indices(table, [("ts", "ascending")]))
        folder = schema.partition_dir(self.events_dir.parent, str(EPOCH + timedelta(utc_day)))
        folder.mkdir(parents=True)
        pq.write_table(
            table,
            folder / "part-00000.parquet",
            compression="zstd",
            row_group_size=ROW_GROUP_ROWS,
            store_decimal_as_integer=True,
        )
        self.written.add(utc_day)
        self.rows += table.num_rows


def _write_events(org: _Org, events_dir: Path, until_us: int | None = None) -> int:
    """Generate and write the events one local day at a time, none at or after `until_us`."""
    lookups = _Lookups.of(org)
    writer = _PartitionWriter(events_dir)
    events = conversations = 0
    for day in range(org.days):
        columns = _day_events(org, day)
        if until_us is not None:
            keep = columns["ts"] < until_us
            columns = {name: values[keep] for name, values in columns.items()}
        writer.add(_events_table(lookups, columns, events, conversations), columns["ts"])
        events += columns["ts"].size
        conversations += int(columns["conversation"].max(initial=-1)) + 1
    writer.flush()
    return writer.rows


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    """Move events/ then directory/ from staging into out_dir, old ones back into staging."""
    for name in ("events", "directory"):
        target = out_dir / name
        if target.exists():
            target.rename(staging / f"replaced-{name}")
        (staging / name).rename(target)
