// dcc.Graph loads plotly.js by itself when its first chart appears, from the URL dash-renderer puts in
// window._dashPlotlyJSURL (the full 4.8 MB bundle). The page preloads the smaller cartesian bundle instead (app.py,
// PLOTLY_URL): this keeps dcc.Graph on it, whatever dash-renderer sets later.
(function () {
    const preload = document.querySelector('link[rel="preload"][href*="/plotly-cartesian-"]');
    if (preload) {
        Object.defineProperty(window, "_dashPlotlyJSURL", {get: () => preload.href, set: () => {}});
    }
})();

// dcc.Graph resizes a chart (Plotly.Plots.resize: drawn again from scratch, 100 ms later) whenever its box is
// observed to change, and the browser reports every new box once, so every chart of a tab was drawn twice.
// A resize that would find the size the chart is drawn at (Plotly's own test: width within 1 px, and the
// height unless the figure fixes it) is answered at once; any other is Plotly's, as before.
// The size is read once the browser has laid the page out for its next frame: read at once, just after Plotly has
// drawn a chart, it made the browser lay the whole page out there and then, once for each chart of a tab.
// Figures also pass through `window.telemetryDress` (assets/theme.js) on their way to Plotly, so a chart is drawn
// in the page's colours at once rather than drawn, then coloured and drawn again.
(function () {
    function drawnAtSize(gd) {
        const full = gd && gd._fullLayout;
        if (!full || !gd.layout || !gd.isConnected) {
            return false;
        }
        const style = window.getComputedStyle(gd);
        const near = (drawn, now) => Math.abs(drawn - parseFloat(now)) <= 1;
        return near(full.width, style.width) && (!!gd.layout.height || near(full.height, style.height));
    }

    function afterLayout() {  // a frame's layout is done when its animation frames have run and a task follows
        return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    }

    function dressed(args) {
        const dress = window.telemetryDress;
        const figure = args[1];
        if (!dress) {
            return args;
        }
        if (figure && !Array.isArray(figure) && typeof figure === "object" && ("layout" in figure || "data" in figure)) {
            args[1] = Object.assign({}, figure, {layout: dress(args[0], figure.layout)});  // Plotly.react(gd, figure)
        } else if (args.length > 2) {
            args[2] = dress(args[0], args[2]);  // Plotly.react(gd, data, layout, config)
        }
        return args;
    }

    function wrap(plotly) {
        const resize = plotly && plotly.Plots && plotly.Plots.resize;
        if (resize && !resize.telemetry) {
            plotly.Plots.resize = function (gd) {
                const div = typeof gd === "string" ? document.getElementById(gd) : gd;
                const args = arguments;
                return afterLayout().then(() => (drawnAtSize(div) ? div : resize.apply(this, args)));
            };
            plotly.Plots.resize.telemetry = true;
        }
        ["react", "newPlot"].forEach((name) => {
            const draw = plotly && plotly[name];
            if (draw && !draw.telemetry) {
                plotly[name] = function () {
                    return draw.apply(this, dressed(Array.from(arguments)));
                };
                plotly[name].telemetry = true;
            }
        });
        return plotly;
    }

    let plotly = wrap(window.Plotly);
    Object.defineProperty(window, "Plotly", {
        configurable: true,
        get: () => plotly,
        set: (value) => { plotly = wrap(value); },
    });
})();
