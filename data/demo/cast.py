"""The demo organization's cast (teams, models, agents, names) and the knobs of its behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import polars as pl

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
