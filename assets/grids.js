// Called by dash-ag-grid's expression parser (callbacks/analytics.py), by name, no eval.
(function () {
    const themes = {};
    window.dashAgGridFunctions = Object.assign({}, window.dashAgGridFunctions, {
        // One theme object per set of parameters for the whole visit. AG Grid gives each theme object a CSS
        // class of its own and puts its styles into the page: a theme made anew for each grid, as the
        // Analytics grids were on every visit of the tab, added and removed <style> elements each time, and
        // the browser worked out the style of every element of the page again.
        sharedTheme: function (base, params) {
            const key = JSON.stringify(params);
            return themes[key] || (themes[key] = base.withParams(params));
        },
    });
})();
