"""Component ids, named <page>-<thing>; callbacks import them from here."""

# Shell: the frame and the filter bar every tab shares
SHELL_LOCATION = "shell-location"
SHELL_NAV = "shell-nav"
SHELL_USER = "shell-user"
SHELL_SCOPE = "shell-scope"
SHELL_ERROR = "shell-error"
SHELL_NOTICE = "shell-notice"  # what the pages should know about the data folder (rollups behind)
FILTER_PRESET = "filter-preset"
FILTER_RANGE = "filter-range"
FILTER_TEAMS = "filter-teams"
FILTER_AGENTS = "filter-agents"
FILTER_MESSAGE = "filter-message"
FILTER_PERIOD = "filter-period"  # the column of the period preset (hidden on Billing, which has its own)
FILTER_COPY_LINK = "filter-copy-link"  # "Copy link": copies the page's address, filters included
FILTER_BAR = "filter-bar"  # the bar's frame: hidden on the Schedules page, which has no filters

# Every chart card's menu, a pattern-matching type: {"type": CHART_MENU, "chart": <the graph's id>}
CHART_MENU = "chart-menu"
CHART_CSV = "chart-csv"  # the shell's store: {"chart": <graph id>} when a menu's CSV is asked for (assets/charts.js)
CHART_DOWNLOAD = "chart-download"  # the shell's one download of a chart's CSV

NAV_LINKS = {
    "dashboard": "shell-nav-dashboard",
    "analytics": "shell-nav-analytics",
    "users": "shell-nav-users",
    "adoption": "shell-nav-adoption",
    "billing": "shell-nav-billing",
    "schedules": "shell-nav-schedules",
}

# Dashboard
DASHBOARD_QUERY = "dashboard-query"
DASHBOARD_MESSAGE = "dashboard-message"
DASHBOARD_KPIS = "dashboard-kpis"
DASHBOARD_TREND = "dashboard-trend"
DASHBOARD_COST_TOTAL = "dashboard-cost-total"
DASHBOARD_COST_DAILY = "dashboard-cost-daily"
DASHBOARD_TOP_AGENTS = "dashboard-top-agents"
DASHBOARD_TOP_TEAMS = "dashboard-top-teams"
DASHBOARD_TOP_AGENTS_TITLE = "dashboard-top-agents-title"
DASHBOARD_TOP_TEAMS_TITLE = "dashboard-top-teams-title"

# Users
USERS_QUERY = "users-query"
USERS_NEW_SEARCH = "users-new-search"  # the URL this tab asks for, passed on to the shell (assets/shell.js)
USERS_MESSAGE = "users-message"
USERS_CARDS = "users-cards"
USERS_VIEW = "users-view"
USERS_VIEWS = {"all": "All users", "not_adopted": "Not adopted yet"}  # values of USERS_VIEW, also in the URL
USERS_SEARCH = "users-search"
USERS_SEARCH_NOTE = "users-search-note"  # why the table is empty when the search or filters ask too much
USERS_GRID = "users-grid"
USERS_GRID_REFRESHED = "users-grid-refreshed"  # when the grid last forgot its rows (clientside)
USERS_EXPORT = "users-export"
USERS_DOWNLOAD = "users-download"
USERS_DISTRIBUTION = "users-distribution"
USERS_CONCENTRATION = "users-concentration"
USERS_ADOPTION = "users-adoption"
USERS_DETAIL = "users-detail"
USERS_DETAIL_BODY = "users-detail-body"
USERS_DETAIL_TITLE = "users-detail-title"
USERS_FREQUENCY_HELP = "users-frequency-help"
USERS_FREQUENCY_TIP = "users-frequency-tip"
# Adoption (layouts/adoption.py, layouts/_adoption.py, callbacks/adoption.py)
ADOPTION_QUERY = "adoption-query"
ADOPTION_NEW_SEARCH = "adoption-new-search"
ADOPTION_TITLE = "adoption-title"
ADOPTION_FUNNEL = "adoption-funnel"
ADOPTION_ACTIVE = "adoption-active"
ADOPTION_STICKINESS = "adoption-stickiness"
ADOPTION_COHORTS = "adoption-cohorts"
ADOPTION_LEAGUE = "adoption-league"
ADOPTION_LEAGUE_PLACE = "adoption-league-place"  # holds the league table (layouts/_adoption.py `league_table`)
ADOPTION_RECLAIM_DAYS = "adoption-reclaim-days"
ADOPTION_RECLAIM_TABLE = "adoption-reclaim-table"  # holds the grid once in view
ADOPTION_RECLAIM = "adoption-reclaim"
ADOPTION_RECLAIM_SUMMARY = "adoption-reclaim-summary"
ADOPTION_RECLAIM_EXPORT = "adoption-reclaim-export"
ADOPTION_RECLAIM_DOWNLOAD = "adoption-reclaim-download"
ADOPTION_RECLAIM_REFRESHED = "adoption-reclaim-refreshed"  # when the grid last forgot its rows (clientside)
ADOPTION_AGENTS = "adoption-agents"
ADOPTION_MODELS_TABLE = "adoption-models-table"  # holds the grid once in view (layouts._components.in_view)
ADOPTION_MODELS = "adoption-models"
ADOPTION_UPTAKE_AGENT = "adoption-uptake-agent"
ADOPTION_UPTAKE_SINCE = "adoption-uptake-since"
ADOPTION_UPTAKE = "adoption-uptake"
ADOPTION_AGENT_COHORTS = "adoption-agent-cohorts"

# Analytics
ANALYTICS_QUERY = "analytics-query"
DASHBOARD_NEW_SEARCH = "dashboard-new-search"  # the URL a bar click asks for, passed on to the shell
ANALYTICS_NEW_SEARCH = "analytics-new-search"  # the URL a click or control asks for, passed on to the shell
ANALYTICS_CHIPS = "analytics-chips"
ANALYTICS_CHIP = "analytics-chip"  # pattern-matching type: {"type": ANALYTICS_CHIP, "key": "agents", "value": id}
ANALYTICS_AGENT_CHART = "analytics-agent-chart"
ANALYTICS_AGENT_TABLE = "analytics-agent-table"  # holds the table, or a message
ANALYTICS_AGENT_GRID = "analytics-agent-grid"  # the table itself (its id kept from when it was an AG Grid)
ANALYTICS_TEAM_CHART = "analytics-team-chart"
ANALYTICS_TEAM_TABLE = "analytics-team-table"
ANALYTICS_TEAM_GRID = "analytics-team-grid"
ANALYTICS_TABLES = (ANALYTICS_AGENT_TABLE, ANALYTICS_TEAM_TABLE)  # put in when in view (layouts._components.in_view)
ANALYTICS_AGENT_ENTER = "analytics-agent-enter"  # a click or Enter on an agent's name in the table (assets/tables.js)
ANALYTICS_TEAM_ENTER = "analytics-team-enter"
ANALYTICS_GRAIN = "analytics-grain"
ANALYTICS_STACK = "analytics-stack"
ANALYTICS_DEFAULT_STACK = "agent"  # the value of ANALYTICS_STACK that the URL leaves out
ANALYTICS_OVER_TIME = "analytics-over-time"
ANALYTICS_HEATMAP = "analytics-heatmap"

# Billing
BILLING_QUERY = "billing-query"
BILLING_PERIOD = "billing-period"
BILLING_PERIOD_NOTE = "billing-period-note"
BILLING_PERIOD_SHOWN = "billing-period-shown"  # the period the selector was set to by the tab, not chosen
BILLING_PERIOD_CHOSEN = "billing-period-chosen"  # a period chosen in the selector (assets/shell.js)
BILLING_NEW_SEARCH = "billing-new-search"  # the URL a chosen period asks for, passed on to the shell
BILLING_MESSAGE = "billing-message"
BILLING_KPIS = "billing-kpis"
BILLING_DAILY = "billing-daily"
BILLING_MODEL_CHART = "billing-model-chart"
BILLING_TEAM_CHART = "billing-team-chart"
BILLING_TEAM_TABLE = "billing-team-table"  # holds the grid once in view (layouts._components.in_view)
BILLING_TEAM_GRID = "billing-team-grid"
BILLING_AGENT_CHART = "billing-agent-chart"
BILLING_AGENT_TABLE = "billing-agent-table"
BILLING_AGENT_GRID = "billing-agent-grid"
BILLING_BUDGETS = "billing-budgets"  # budgets against spend and the alerts sent (callbacks/budgets.py)
BILLING_BUDGET_SCOPE = "billing-budget-scope"  # the budget form (admins) and the recipient form, in that section
BILLING_BUDGET_USD = "billing-budget-usd"
BILLING_BUDGET_CADENCE = "billing-budget-cadence"
BILLING_BUDGET_SET = "billing-budget-set"
BILLING_RECIPIENT_EMAIL = "billing-recipient-email"
BILLING_RECIPIENT_SCOPE = "billing-recipient-scope"
BILLING_RECIPIENT_ADD = "billing-recipient-add"
BILLING_BUDGET_FEEDBACK = "billing-budget-feedback"
BILLING_BUDGET_FORM = "billing-budget-form"  # the budget form's row: shown to Admins only

# Generate Report (a dialog on every tab, in the shell)
REPORT_OPEN = "report-open"
REPORT_DIALOG = "report-dialog"
REPORT_TITLE = "report-title"
REPORT_POINTS = "report-points"
REPORT_PERIOD = "report-period"
REPORT_GRAIN = "report-grain"
REPORT_FORMAT = "report-format"
REPORT_REASON = "report-reason"
REPORT_TICKET = "report-ticket"
REPORT_GENERATE = "report-generate"
REPORT_CANCEL = "report-cancel"
REPORT_CLOSE = "report-close"
REPORT_PROGRESS = "report-progress"
REPORT_STATUS = "report-status"
REPORT_DOWNLOAD = "report-download"
REPORT_SCHEDULE_OPEN = "report-schedule-open"  # "Schedule…": the dialog's choices sent by email on a cadence
REPORT_SCHEDULE_SECTION = "report-schedule-section"
REPORT_SCHEDULE_SCOPE = "report-schedule-scope"  # what the schedule's report covers, and the time zone
REPORT_SCHEDULE_PERIOD = "report-schedule-period"
REPORT_SCHEDULE_CADENCE = "report-schedule-cadence"
REPORT_SCHEDULE_AT = "report-schedule-at"
REPORT_SCHEDULE_TO = "report-schedule-to"
REPORT_SCHEDULE_SAVE = "report-schedule-save"
REPORT_SCHEDULE_FEEDBACK = "report-schedule-feedback"
REPORT_SCHEDULE_SAVED = "report-schedule-saved"  # the id saved last: the Schedules page lists it at once

# Schedules (callbacks/schedules.py); the row buttons are pattern-matching: {"type": SCHEDULES_SEND, "schedule": id}
SCHEDULES_QUERY = "schedules-query"
SCHEDULES_TABLE = "schedules-table"
SCHEDULES_FEEDBACK = "schedules-feedback"
SCHEDULES_SEND = "schedules-send"
SCHEDULES_PAUSE = "schedules-pause"
SCHEDULES_EDIT = "schedules-edit"
SCHEDULES_DELETE = "schedules-delete"
SCHEDULES_CONFIRM = "schedules-confirm"  # the "Delete schedule?" dialog
SCHEDULES_CONFIRM_TEXT = "schedules-confirm-text"
SCHEDULES_CONFIRM_DELETE = "schedules-confirm-delete"
SCHEDULES_CONFIRM_CANCEL = "schedules-confirm-cancel"
SCHEDULES_PENDING = "schedules-pending"  # the id to delete once confirmed (checked again on the server)
SCHEDULES_EDITOR = "schedules-editor"  # the Edit dialog and its fields
SCHEDULES_EDITOR_TITLE = "schedules-editor-title"
SCHEDULES_EDITOR_ID = "schedules-editor-id"
SCHEDULES_EDITOR_SCOPE = "schedules-editor-scope"
SCHEDULES_EDITOR_POINTS = "schedules-editor-points"
SCHEDULES_EDITOR_FORMAT = "schedules-editor-format"
SCHEDULES_EDITOR_PERIOD = "schedules-editor-period"
SCHEDULES_EDITOR_CADENCE = "schedules-editor-cadence"
SCHEDULES_EDITOR_AT = "schedules-editor-at"
SCHEDULES_EDITOR_TO = "schedules-editor-to"
SCHEDULES_EDITOR_SAVE = "schedules-editor-save"
SCHEDULES_EDITOR_CANCEL = "schedules-editor-cancel"
SCHEDULES_EDITOR_FEEDBACK = "schedules-editor-feedback"


def in_view_store(place_id: str) -> str:
    """The store that holds a place's part until the place is in view (layouts._components.in_view)."""
    return f"{place_id}-part"


def chart_place(graph_id: str) -> str:
    """The place of a chart drawn once in view (layouts._components.graph_in_view); the chart keeps its own id."""
    return f"{graph_id}-place"
