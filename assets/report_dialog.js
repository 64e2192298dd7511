// The report dialog: when Generate starts a new file, the status line forgets the last one's "Done"
// at once (the job's own answer replaces it when the job ends). Wired in callbacks/report.py.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    telemetry: Object.assign({}, (window.dash_clientside || {}).telemetry, {
        clearReportStatus: function () {
            return "";
        },
    }),
});
