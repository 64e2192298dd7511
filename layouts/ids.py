"""Component ids, named <page>-<thing>; callbacks import them from here."""

# Shell: the frame and the filter bar every tab shares
SHELL_LOCATION = "shell-location"
SHELL_NAV = "shell-nav"
SHELL_USER = "shell-user"
SHELL_SCOPE = "shell-scope"
FILTER_PRESET = "filter-preset"
FILTER_RANGE = "filter-range"
FILTER_TEAMS = "filter-teams"
FILTER_AGENTS = "filter-agents"
FILTER_MESSAGE = "filter-message"

NAV_LINKS = {
    "dashboard": "shell-nav-dashboard",
    "analytics": "shell-nav-analytics",
    "users": "shell-nav-users",
    "billing": "shell-nav-billing",
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
