// A part of a page put in its place only once the place scrolls into view (layouts/_components.py `in_view`,
// callbacks/_common.py `register_in_view`). A grid or a chart below the fold then starts when a person can see
// it: each AG Grid's start (its theme, sizes and scrollbars measured one by one, its rows drawn) and each chart's
// drawing (Plotly measures its labels one by one) were a large share of the main thread's work in a tab switch,
// done for parts nobody had scrolled to. The part comes from the server into a store beside its place; this
// puts it in, through Dash's set_props, so Dash knows it.
// The place counts as in view as soon as its card does (its title, its menu): a card's menu or a tab stop in
// its header is reached only once the card shows, and the chart is then drawn before the menu is used.
// A place says what it knows in `data-in-view`: "away" (out of view, waiting), "shown" (its part is in);
// none yet means not known yet (tests/page_ready.py waits for it).
//
// The places are looked up by id at each check, not observed as elements: React may draw a place's element
// again (a new element with the same id), and an observer of the old one would never see the new one come
// into view. A check is cheap (a box or two) and runs only while a part waits: at each scroll and resize,
// and every CHECK_MS besides.
(function () {
    const CHECK_MS = 200;
    const UNDRAWN_CHECKS = 50;  // a part whose place never appears (its page was left before it was drawn) is dropped
    const waiting = new Map();  // place id -> {part, seen: whether its place has been drawn, misses}
    let timer = null;

    function inView(place) {
        const box = (place.closest(".card") || place).getBoundingClientRect();  // all zero when not displayed
        return box.bottom > 0 && box.right > 0 && box.top < window.innerHeight && box.left < window.innerWidth
            && box.width + box.height > 0;
    }

    function check() {
        waiting.forEach(function (entry, placeId) {
            const place = document.getElementById(placeId);
            if (!place) {  // not drawn yet, or its page was left (then its part is not wanted any more)
                entry.misses += 1;
                if (entry.seen || entry.misses > UNDRAWN_CHECKS) {
                    waiting.delete(placeId);
                }
                return;
            }
            entry.seen = true;
            if (!inView(place)) {
                place.dataset.inView = "away";
                return;
            }
            waiting.delete(placeId);
            place.dataset.inView = "shown";
            window.dash_clientside.set_props(placeId, {children: entry.part});
        });
        if (waiting.size === 0 && timer !== null) {
            clearInterval(timer);
            timer = null;
        }
    }

    function soon() {
        if (waiting.size > 0) {
            requestAnimationFrame(check);
        }
    }

    window.addEventListener("scroll", soon, {passive: true, capture: true});
    window.addEventListener("resize", soon, {passive: true});

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        inView: {
            show: function (part, placeId) {
                if (part) {
                    const place = document.getElementById(placeId);
                    if (place) {
                        delete place.dataset.inView;  // a new part: not known yet whether it shows
                    }
                    waiting.set(placeId, {part: part, seen: false, misses: 0});
                    requestAnimationFrame(check);
                    if (timer === null) {
                        timer = setInterval(check, CHECK_MS);
                    }
                }
                return window.dash_clientside.no_update;
            },
        },
    });
})();
