// The system's colour scheme (prefers-color-scheme), followed live: Bootstrap's dark theme, AG Grid's,
// and the charts', whose figures come from the server in the light house look (callbacks/_figures.py).
// A chart is drawn in the page's colours at once: its figure's template is swapped for a dark one on its way to
// Plotly (window.telemetryDress, called by assets/plotly_bundle.js). Colouring it after Plotly had drawn it
// in the light look drew every chart twice in dark mode.
(function () {
    const scheme = window.matchMedia("(prefers-color-scheme: dark)");
    // Bootstrap 5.3's dark body colours; grid lines a step above the background.
    const DARK = {paper: "#212529", plot: "#212529", font: "#dee2e6", grid: "#343a40", line: "#495057"};

    function isDark() {
        return scheme.matches;
    }

    // The server's template in the page's colours: always a new object, as Plotly may change the one it holds
    // (the server's, in the figure Dash keeps, stays as it came).
    function look(light) {
        const template = JSON.parse(JSON.stringify(light));
        if (isDark()) {
            const layout = template.layout = template.layout || {};
            layout.paper_bgcolor = DARK.paper;
            layout.plot_bgcolor = DARK.plot;
            layout.font = Object.assign({}, layout.font, {color: DARK.font});
            ["xaxis", "yaxis"].forEach(function (axis) {  // a template's xaxis and yaxis are every x and y axis's
                layout[axis] = Object.assign({}, layout[axis], {gridcolor: DARK.grid, linecolor: DARK.line,
                                                                zerolinecolor: DARK.line});
            });
        }
        return template;
    }

    // A figure's layout in the page's colours, a new object; the chart keeps the server's template, to go back to
    // when the scheme changes.
    window.telemetryDress = function (gd, layout) {
        const template = layout && layout.template;
        if (!template || typeof template !== "object") {
            return layout;
        }
        if (gd && typeof gd === "object") {
            gd._telemetryLight = template;
            gd._telemetryDark = isDark();
        }
        return Object.assign({}, layout, {template: look(template)});
    };

    // The charts on the page when the scheme changes: drawn again from the server's template, by Plotly.react (a
    // relayout would also be written back into the figure Dash keeps, dcc.Graph's way with a person's zoom).
    function recolour() {
        document.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
            if (window.Plotly && gd._fullLayout && gd._telemetryLight && gd._telemetryDark !== isDark()) {
                window.Plotly.react(gd, gd.data, Object.assign({}, gd.layout, {template: gd._telemetryLight}));
            }
        });
    }

    function apply() {
        const mode = isDark() ? "dark" : "light";
        document.documentElement.setAttribute("data-bs-theme", mode);
        document.body.setAttribute("data-ag-theme-mode", mode);  // AG Grid's themes read it
        recolour();
    }

    scheme.addEventListener("change", apply);
    apply();
})();
