// The frame's pure UI, answered in the browser instead of by a request to the server; wired in
// callbacks/shell.py, callbacks/analytics.py, callbacks/users.py and callbacks/billing.py.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    telemetry: Object.assign({}, (window.dash_clientside || {}).telemetry, {
        // Every tab's link keeps the query string (the period and filters): its path, then the search.
        navLinks: function (search, ...hrefs) {
            return hrefs.map((href) => String(href || "").split("?")[0] + (search || ""));
        },
        // A tab's controls write the URL they ask for into a store of their own page (so that they do
        // not fire when the page is drawn, as callbacks with an output outside the page do); this passes
        // it on to the shell's location.
        passSearchOn: function (search) {
            return typeof search === "string" ? search : window.dash_clientside.no_update;
        },
        // Billing's period selector: a period chosen there (not the one the tab set it to, kept in `shown`)
        // goes on to the server, which writes its dates into the URL.
        billingPeriodChosen: function (value, shown) {
            return typeof value === "string" && value !== shown ? value : window.dash_clientside.no_update;
        },
    }),
});
