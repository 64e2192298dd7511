"""Component ids, named <page>-<thing>; callbacks import them from here."""

SHELL_LOCATION = "shell-location"
SHELL_NAV = "shell-nav"
SHELL_USER = "shell-user"

NAV_LINKS = {
    "dashboard": "shell-nav-dashboard",
    "analytics": "shell-nav-analytics",
    "users": "shell-nav-users",
    "billing": "shell-nav-billing",
}

DASHBOARD_START = "dashboard-start"
DASHBOARD_END = "dashboard-end"
DASHBOARD_TEAMS = "dashboard-teams"
DASHBOARD_MESSAGE = "dashboard-message"
DASHBOARD_KPIS = "dashboard-kpis"
