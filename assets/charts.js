// The charts' own behaviour in the browser (wired in callbacks/charts.py and callbacks/dashboard.py).
//
// A chart card's download menu, drawn by the browser from ONE Dash component (layouts/_components.py
// `chart_menu`: an empty <div> naming its chart and title): a Dash menu of its own was seven components per card,
// each checked again by dash-renderer at every update of its store, in every tab switch.
// The menu is a menu button (WAI-ARIA's pattern): Enter, Space or Down opens it on its first item, Up on its
// last; the arrow keys, Home and End move; Enter chooses; Escape, Tab or a click elsewhere closes it.
// "Download PNG": Plotly draws the chart on the page into a PNG and the browser saves it; nothing is sent
// anywhere (the mode bar, whose "Share chart…" would upload it, is off). A chart below the fold is put in once
// its card is in view (assets/in_view.js): one asked for at that moment is saved as soon as it is drawn.
// "Download data (CSV)": the chart's id goes into the shell's store (ids.CHART_CSV), whose callback answers the
// file (callbacks/charts.py: the viewer's scope, audited) through the shell's one dcc.Download.
(function () {
    const DRAWN_WAIT_FRAMES = 600;  // about 10 s of animation frames
    const CSV_STORE = "chart-csv";  // layouts/ids.py CHART_CSV
    const ITEMS = [["Download PNG", downloadPng], ["Download data (CSV)", downloadCsv]];

    function whenDrawn(chartId, then, frames) {
        const holder = chartId && document.getElementById(chartId);
        const plot = holder && holder.querySelector(".js-plotly-plot");
        if (plot && plot._fullLayout && window.Plotly) {
            then(plot);
        } else if ((frames || 0) < DRAWN_WAIT_FRAMES) {
            requestAnimationFrame(() => whenDrawn(chartId, then, (frames || 0) + 1));
        }
    }

    function downloadPng(chart) {
        const day = new Date().toISOString().slice(0, 10);
        whenDrawn(chart, function (plot) {
            window.Plotly.downloadImage(plot, {format: "png", filename: `telemetry-${chart}-${day}`});
        });
    }

    function downloadCsv(chart) {
        window.dash_clientside.set_props(CSV_STORE, {data: {chart: chart, at: Date.now()}});
    }

    function build(holder) {
        holder.__telemetryMenu = true;
        holder.classList.add("dropdown");
        const toggle = document.createElement("button");
        toggle.type = "button";
        toggle.className = "btn btn-link btn-sm py-0 px-2 text-secondary fs-5 lh-1 text-decoration-none";
        toggle.setAttribute("aria-haspopup", "menu");
        toggle.setAttribute("aria-expanded", "false");
        const dots = document.createElement("span");
        dots.setAttribute("aria-hidden", "true");
        dots.textContent = "\u22ef";
        const name = document.createElement("span");
        name.className = "visually-hidden";
        name.textContent = `Download: ${holder.dataset.title}`;
        toggle.append(dots, name);
        const menu = document.createElement("div");
        menu.className = "dropdown-menu dropdown-menu-end";
        menu.setAttribute("role", "menu");
        menu.setAttribute("data-bs-popper", "static");  // Bootstrap's placement under the toggle, at its right
        menu.setAttribute("aria-label", `Download: ${holder.dataset.title}`);
        const items = ITEMS.map(([text, action]) => {
            const item = document.createElement("button");
            item.type = "button";
            item.className = "dropdown-item";
            item.setAttribute("role", "menuitem");
            item.tabIndex = -1;
            item.textContent = text;
            item.addEventListener("click", () => {
                close(true);
                action(holder.dataset.chart);
            });
            return item;
        });
        menu.append(...items);

        function open(at) {
            menu.classList.add("show");
            toggle.setAttribute("aria-expanded", "true");
            items[(at + items.length) % items.length].focus();
        }
        function close(refocus) {
            if (!menu.classList.contains("show")) {
                return;
            }
            menu.classList.remove("show");
            toggle.setAttribute("aria-expanded", "false");
            if (refocus) {
                toggle.focus();
            }
        }
        toggle.addEventListener("click", () => (menu.classList.contains("show") ? close(true) : open(0)));
        toggle.addEventListener("keydown", (event) => {
            if (event.key === "ArrowDown" || event.key === "ArrowUp") {
                event.preventDefault();
                open(event.key === "ArrowDown" ? 0 : -1);
            }
        });
        menu.addEventListener("keydown", (event) => {
            const at = items.indexOf(document.activeElement);
            const next = {ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1}[event.key];
            if (next !== undefined) {
                event.preventDefault();
                items[(next + items.length) % items.length].focus();
            } else if (event.key === "Escape") {
                event.preventDefault();
                close(true);
            } else if (event.key === "Tab") {
                close(false);
            }
        });
        holder.addEventListener("focusout", (event) => {
            if (!holder.contains(event.relatedTarget)) {
                close(false);
            }
        });
        holder.append(toggle, menu);
    }

    function buildAll() {
        document.querySelectorAll(".telemetry-chart-menu").forEach((holder) => {
            if (!holder.__telemetryMenu) {
                build(holder);
            }
        });
    }

    // a click elsewhere closes an open menu (a click inside it is its own)
    document.addEventListener("click", (event) => {
        document.querySelectorAll(".telemetry-chart-menu .dropdown-menu.show").forEach((menu) => {
            const holder = menu.parentElement;
            if (!holder.contains(event.target)) {
                menu.classList.remove("show");
                holder.firstElementChild.setAttribute("aria-expanded", "false");
            }
        });
    });
    // Plotly's drawing (inside each chart's SVG) is most of a page's changes: those never add a menu
    new MutationObserver((records) => {
        if (records.some((record) => !(record.target instanceof SVGElement))) buildAll();
    }).observe(document.documentElement, {childList: true, subtree: true});
    buildAll();
})();

// A click on a horizontal bar chart's category label, or on a bar's value written beside it, counts as a
// click on that bar (Plotly reports clicks on the bars only). Bars, their labels and values are drawn
// in the same order, so the n-th label is the n-th point of the trace.
document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".telemetry-bar-keys")) {
        return;  // a label's own button (below) says which bar
    }
    const plot = event.target.closest && event.target.closest(".js-plotly-plot");
    const holder = plot && plot.closest(".dash-graph[id]");
    const trace = plot && plot.data && plot.data[0];
    if (!holder || !trace || trace.type !== "bar" || trace.orientation !== "h" || !trace.customdata) {
        return;
    }
    const inside = (element) => {
        const box = element.getBoundingClientRect();
        return event.clientX >= box.left && event.clientX <= box.right
            && event.clientY >= box.top && event.clientY <= box.bottom;
    };
    const labels = Array.from(plot.querySelectorAll(".yaxislayer-above .ytick text"));
    const values = Array.from(plot.querySelectorAll(".barlayer .point")).map((p) => p.querySelector("text"));
    let index = labels.findIndex(inside);
    if (index < 0) {
        index = values.findIndex((text) => text && inside(text));
    }
    if (index < 0 || index >= trace.customdata.length) {
        return;
    }
    const point = {curveNumber: 0, pointNumber: index, pointIndex: index, x: trace.x[index], y: trace.y[index],
                   customdata: trace.customdata[index]};
    window.dash_clientside.set_props(holder.id, {clickData: {points: [point]}});
}, true);

// The keyboard's way to the same filter: over each such chart its labels are buttons, in a toolbar that is
// one tab stop (the arrow keys, Home and End move between the bars, top to bottom; Enter or Space filters
// to one, as a click does), with the page's focus ring (assets/a11y.css). Drawn again after every plot,
// relative to Plotly's own container, so they stay on their labels when the chart is drawn anew or resized.
(function () {
    function filterable(plot) {
        const trace = plot.data && plot.data[0];
        return !!trace && trace.type === "bar" && trace.orientation === "h" && Array.isArray(trace.customdata)
            && trace.customdata.length > 0;
    }

    function chooseSeries(plot, index) {
        const holder = plot.closest(".dash-graph[id]");
        const trace = plot.data && plot.data[index];
        if (!holder || !trace || !trace.customdata || !trace.customdata.length) {
            return;
        }
        const point = {curveNumber: index, pointNumber: 0, pointIndex: 0, x: trace.x[0], y: trace.y[0],
                       customdata: trace.customdata[0]};
        window.dash_clientside.set_props(holder.id, {clickData: {points: [point]}});
    }

    function choose(plot, index) {
        const holder = plot.closest(".dash-graph[id]");
        const trace = plot.data && plot.data[0];
        if (!holder || !trace || !trace.customdata || index >= trace.customdata.length) {
            return;
        }
        const point = {curveNumber: 0, pointNumber: index, pointIndex: index, x: trace.x[index], y: trace.y[index],
                       customdata: trace.customdata[index]};
        window.dash_clientside.set_props(holder.id, {clickData: {points: [point]}});
    }

    function move(toolbar, event) {
        const buttons = Array.from(toolbar.querySelectorAll("button"));
        const at = buttons.indexOf(document.activeElement);
        const next = {ArrowDown: at + 1, ArrowRight: at + 1, ArrowUp: at - 1, ArrowLeft: at - 1, Home: 0,
                      End: buttons.length - 1}[event.key];
        if (next === undefined || at < 0) {
            return;
        }
        event.preventDefault();
        const target = buttons[Math.max(0, Math.min(buttons.length - 1, next))];
        buttons.forEach((button) => { button.tabIndex = button === target ? 0 : -1; });
        target.focus();
    }

    function cardTitle(plot) {
        const card = plot.closest(".card");
        const title = card && card.querySelector(".card-header .fw-semibold");
        return title ? title.textContent.trim() : "Chart";
    }

    // A stacked chart over time (Analytics): each series is an agent or a team, and its legend entry the
    // keyboard's way to filter to it, and the mouse's: a click on the entry filters as Enter does (Plotly's own
    // legend click is off, callbacks/_figures.py), and so does a click on a series' bar, as before.
    function series(plot) {  // marked so by its figure (callbacks/analytics.py, over_time_figure)
        return !!(plot.layout && plot.layout.meta && plot.layout.meta.filter === "series");
    }

    function measureLegend(plot, container, origin) {
        const places = Array.from(plot.querySelectorAll(".legend .traces"))
            .map((item) => {
                const data = item.__data__ && item.__data__[0] && item.__data__[0].trace;
                return {index: data ? data.index : -1, box: item.getBoundingClientRect()};
            })
            .filter((place) => {
                const trace = plot.data[place.index];
                return trace && place.box.width > 0 && Array.isArray(trace.customdata) && trace.customdata.length
                    && trace.customdata[0][0] !== "other";  // Other is no agent or team to filter to
            })
            .sort((a, b) => a.box.top - b.box.top || a.box.left - b.box.left);
        return {plot, container, origin, places, legend: true};
    }

    // Where each label is, read for every chart first (one layout of the page), then the buttons put in.
    function measure(plot) {
        const container = plot.querySelector(".svg-container");
        if (container && series(plot)) {
            return measureLegend(plot, container, container.getBoundingClientRect());
        }
        if (!container || !filterable(plot)) {
            return {plot, places: []};
        }
        const trace = plot.data[0];
        const labels = Array.from(plot.querySelectorAll(".yaxislayer-above .ytick text"));
        const origin = container.getBoundingClientRect();
        // the n-th label is the n-th point (see above); top to bottom on the screen
        const places = labels.slice(0, trace.customdata.length)
            .map((label, index) => ({index, box: label.getBoundingClientRect()}))
            .filter((place) => place.box.width > 0)
            .sort((a, b) => a.box.top - b.box.top);
        return {plot, container, trace, origin, places};
    }

    function draw({plot, container, trace, origin, places, legend}) {
        const old = plot.querySelector(".telemetry-bar-keys");
        const focused = old && old.contains(document.activeElement)
            ? Array.from(old.querySelectorAll("button")).indexOf(document.activeElement) : -1;
        if (old) {
            old.remove();
        }
        if (!places.length) {
            return;
        }
        const toolbar = document.createElement("div");
        toolbar.className = legend ? "telemetry-bar-keys telemetry-series-keys" : "telemetry-bar-keys";
        toolbar.setAttribute("role", "toolbar");
        toolbar.setAttribute("aria-orientation", legend ? "horizontal" : "vertical");
        toolbar.setAttribute("aria-label", `${cardTitle(plot)}: filter to one`);
        places.forEach((place, order) => {
            const button = document.createElement("button");
            button.type = "button";
            button.className = "telemetry-bar-key";
            button.tabIndex = order === Math.max(focused, 0) ? 0 : -1;
            const name = legend ? plot.data[place.index].name : trace.y[place.index];
            const value = !legend && Array.isArray(trace.text) ? ` (${trace.text[place.index]})` : "";
            button.setAttribute("aria-label", `Filter to ${name}${value}`);
            button.title = `Filter to ${name}`;
            const pad = Math.max(0, (24 - place.box.height) / 2);  // a target of 24 px where the bars leave room
            button.style.left = `${place.box.left - origin.left - 4}px`;
            button.style.top = `${place.box.top - origin.top - pad}px`;
            button.style.width = `${place.box.width + 8}px`;
            button.style.height = `${place.box.height + 2 * pad}px`;
            button.addEventListener("click", () => (legend ? chooseSeries : choose)(plot, place.index));
            toolbar.appendChild(button);
        });
        toolbar.addEventListener("keydown", (event) => move(toolbar, event));
        container.appendChild(toolbar);
        if (focused >= 0) {
            toolbar.querySelectorAll("button")[Math.min(focused, places.length - 1)].focus();
        }
    }

    // Drawn before the next paint, all charts at once: measuring a chart's labels between two charts that
    // Plotly draws in one go would make the browser lay the page out once more for each.
    const pending = new Set();
    function later(plot) {
        if (!pending.size) {
            requestAnimationFrame(() => {
                const plots = Array.from(pending);
                pending.clear();
                plots.filter((p) => p.isConnected).map(measure).forEach(draw);
            });
        }
        pending.add(plot);
    }

    function watch() {
        document.querySelectorAll(".dash-graph .js-plotly-plot").forEach((plot) => {
            if (plot.__telemetryBarKeys || typeof plot.on !== "function") {
                return;
            }
            plot.__telemetryBarKeys = true;
            plot.on("plotly_afterplot", () => later(plot));
            if (plot._fullLayout && plot.querySelector(".main-svg")) {
                later(plot);
            }
        });
    }
    new MutationObserver(watch).observe(document.documentElement, {childList: true, subtree: true});
    watch();
})();
