// The filter bar's "Copy link" (layouts/shell.py, wired in callbacks/shell.py): copies the page's
// address as the URL now has it, filters included, and says whether it did; a new address resets it.
// A plain button rather than dcc.Clipboard, whose Dash 4 control cannot take the keyboard's focus and
// replaces its content when it has copied, dropping the focus.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    telemetry: Object.assign({}, (window.dash_clientside || {}).telemetry, {
        copyLink: async function (_clicks, pathname, search) {
            const triggered = window.dash_clientside.callback_context.triggered.map((t) => t.prop_id);
            if (!triggered.includes("filter-copy-link.n_clicks")) {
                return "Copy link";
            }
            const link = window.location.origin + (pathname || "") + (search || "");
            try {
                await navigator.clipboard.writeText(link);
                return "Link copied";
            } catch (error) {
                return "Could not copy: use the address bar";
            }
        },
    }),
});
