// dcc.Graph loads plotly.js by itself when its first chart appears, from the URL dash-renderer puts in
// window._dashPlotlyJSURL (the full 4.8 MB bundle). The page preloads the smaller cartesian bundle instead (app.py,
// PLOTLY_URL): this keeps dcc.Graph on it, whatever dash-renderer sets later.
(function () {
    const preload = document.querySelector('link[rel="preload"][href*="/plotly-cartesian-"]');
    if (preload) {
        Object.defineProperty(window, "_dashPlotlyJSURL", {get: () => preload.href, set: () => {}});
    }
})();
