// A part of a page put in its place only once the place scrolls into view (layouts/_components.py `in_view`,
// callbacks/_common.py `register_in_view`). A grid below the fold then starts when a person can see it: each
// AG Grid's start (its theme, sizes and scrollbars measured one by one, its rows drawn) was a large share of
// the main thread's work in a tab switch, done for grids nobody had scrolled to. The part comes from the
// server into a store beside its place; this puts it in, through Dash's set_props, so Dash knows it.
// A place says what it knows in `data-in-view`: "away" (out of view, waiting), "shown" (its part is in);
// none yet means not known yet (tests/page_ready.py waits for it).
(function () {
    const parts = new Map();  // place id -> the part waiting for its place to come into view
    const observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
            const place = entry.target;
            if (!entry.isIntersecting) {
                place.dataset.inView = "away";
                return;
            }
            observer.unobserve(place);
            if (place.isConnected && parts.has(place.id)) {
                const part = parts.get(place.id);
                parts.delete(place.id);
                place.dataset.inView = "shown";
                window.dash_clientside.set_props(place.id, {children: part});
            }
        });
    });

    function watch(placeId, tries) {
        const place = document.getElementById(placeId);
        if (!place) {  // the page that holds it is not drawn yet
            if (tries > 0) {
                requestAnimationFrame(function () { watch(placeId, tries - 1); });
            }
            return;
        }
        delete place.dataset.inView;
        observer.unobserve(place);
        observer.observe(place);  // reports at once whether it is in view
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        inView: {
            show: function (part, placeId) {
                if (part) {
                    parts.set(placeId, part);
                    watch(placeId, 60);
                }
                return window.dash_clientside.no_update;
            },
        },
    });
})();
