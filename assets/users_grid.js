// The Users tab's grid and the Adoption tab's seats to reclaim read their rows a block at a time from
// the server (AG Grid's infinite row model). When the period, the view or the search changes, a grid
// must forget the blocks it has and ask again; this is wired in callbacks/users.py and adoption.py.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    telemetry: Object.assign({}, (window.dash_clientside || {}).telemetry, {
        refreshUsersGrid: async function () {
            const api = await window.dash_ag_grid.getApiAsync("users-grid");
            api.purgeInfiniteCache();
            return Date.now();
        },
        refreshReclaimGrid: async function () {
            if (!document.getElementById("adoption-reclaim")) {
                // not put in yet (out of view, assets/in_view.js): it asks for its first block once it is
                return window.dash_clientside.no_update;
            }
            const api = await window.dash_ag_grid.getApiAsync("adoption-reclaim");
            api.purgeInfiniteCache();
            return Date.now();
        },
    }),
});
