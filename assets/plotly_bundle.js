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

    function wrap(plotly) {
        const resize = plotly && plotly.Plots && plotly.Plots.resize;
        if (resize && !resize.telemetry) {
            plotly.Plots.resize = function (gd) {
                const div = typeof gd === "string" ? document.getElementById(gd) : gd;
                return drawnAtSize(div) ? Promise.resolve(div) : resize.apply(this, arguments);
            };
            plotly.Plots.resize.telemetry = true;
        }
        return plotly;
    }

    let plotly = wrap(window.Plotly);
    Object.defineProperty(window, "Plotly", {
        configurable: true,
        get: () => plotly,
        set: (value) => { plotly = wrap(value); },
    });
})();
