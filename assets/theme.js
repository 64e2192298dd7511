// The system's colour scheme (prefers-color-scheme), followed live: Bootstrap's dark theme, AG Grid's,
// and the charts', whose figures come from the server in the light house look (callbacks/_figures.py).
(function () {
    const scheme = window.matchMedia("(prefers-color-scheme: dark)");
    // Bootstrap 5.3's dark body colours; grid lines a step above the background.
    const DARK = {paper: "#212529", plot: "#212529", font: "#dee2e6", grid: "#343a40", line: "#495057"};

    function isDark() {
        return scheme.matches;
    }

    function axesOf(gd) {
        return Object.keys(gd._fullLayout || {}).filter(function (key) {
            return /^[xy]axis\d*$/.test(key);
        });
    }

    function colours(gd, paper, plot, font, grid, line) {
        const look = {paper_bgcolor: paper, plot_bgcolor: plot, "font.color": font};
        axesOf(gd).forEach(function (axis) {
            const full = gd._fullLayout[axis];
            look[axis + ".gridcolor"] = grid === undefined ? full.gridcolor : grid;
            look[axis + ".linecolor"] = line === undefined ? full.linecolor : line;
            look[axis + ".zerolinecolor"] = line === undefined ? full.zerolinecolor : line;
        });
        return look;
    }

    // The layout changes that give this chart the wanted look, or null when it has it already.
    function changes(gd) {
        const full = gd._fullLayout;
        if (!full || !full.font) {
            return null;
        }
        if (full.paper_bgcolor !== DARK.paper) {  // as the server drew it: the light look, to go back to
            gd._telemetryLight = colours(gd, full.paper_bgcolor, full.plot_bgcolor, full.font.color);
        }
        const wanted = isDark() ? colours(gd, DARK.paper, DARK.plot, DARK.font, DARK.grid, DARK.line)
            : gd._telemetryLight;
        const current = function (path) {
            return path.split(".").reduce(function (node, key) { return node && node[key]; }, full);
        };
        // Plotly leaves out what a chart does not draw (no grid lines: no gridcolor); asking for it
        // again after each drawing would never end.
        const update = {};
        Object.keys(wanted || {}).forEach(function (path) {
            const now = current(path);
            if (now !== undefined && wanted[path] !== undefined && now !== wanted[path]) {
                update[path] = wanted[path];
            }
        });
        return Object.keys(update).length ? update : null;
    }

    function restyle(gd) {
        const update = window.Plotly && changes(gd);
        if (update) {
            window.Plotly.relayout(gd, update);
        }
    }

    function watch(all) {
        document.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
            if (!gd._telemetryWatched && typeof gd.on === "function") {
                gd._telemetryWatched = true;
                gd.on("plotly_afterplot", function () { restyle(gd); });  // each new figure from the server
                restyle(gd);
            } else if (all) {
                restyle(gd);
            }
        });
    }

    function apply() {
        const mode = isDark() ? "dark" : "light";
        document.documentElement.setAttribute("data-bs-theme", mode);
        document.body.setAttribute("data-ag-theme-mode", mode);  // AG Grid's themes read it
        watch(true);
    }

    scheme.addEventListener("change", apply);
    new MutationObserver(function (records) {
        if (records.some(function (r) { return r.addedNodes.length; })) {
            watch(false);
        }
    }).observe(document.body, {childList: true, subtree: true});
    apply();
})();
