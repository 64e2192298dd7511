// The Schedules page has no period or filters: the shell's filter bar is hidden there, in the browser
// (wired in callbacks/schedules.py).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    telemetry: Object.assign({}, (window.dash_clientside || {}).telemetry, {
        filterBarStyle: function (pathname) {
            return pathname === "/telemetry/schedules" ? {display: "none"} : {};
        },
    }),
});
