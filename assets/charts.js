// The charts' own behaviour in the browser (wired in callbacks/charts.py and callbacks/dashboard.py).
//
// "Download PNG" from a chart card's menu: Plotly draws the chart on the page into a PNG and the
// browser saves it; nothing is sent anywhere (the mode bar, whose "Share chart…" would upload it, is off).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    telemetry: Object.assign({}, (window.dash_clientside || {}).telemetry, {
        downloadChartPng: function () {
            const context = window.dash_clientside.callback_context;
            const trigger = context.triggered_id || {};
            if (!(context.triggered || []).some((input) => input.value)) {
                return window.dash_clientside.no_update;  // menus drawn anew, not a click
            }
            const holder = trigger.chart && document.getElementById(trigger.chart);
            const plot = holder && holder.querySelector(".js-plotly-plot");
            if (plot && window.Plotly) {
                const day = new Date().toISOString().slice(0, 10);
                window.Plotly.downloadImage(plot, {format: "png", filename: `telemetry-${trigger.chart}-${day}`});
            }
            return window.dash_clientside.no_update;
        },
    }),
});

// A click on a horizontal bar chart's category label, or on a bar's value written beside it, counts as a
// click on that bar (Plotly reports clicks on the bars only). Bars, their labels and values are drawn
// in the same order, so the n-th label is the n-th point of the trace.
document.addEventListener("click", function (event) {
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
