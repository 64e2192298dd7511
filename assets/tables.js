// Small tables of a fixed size (a few dozen rows) drawn by the browser from ONE Dash component
// (layouts/_components.py `plain_table`: an empty <div> whose `data-table` holds the columns and rows as JSON).
// An AG Grid for a dozen teams cost most of a tab switch (its start styles and measures the page, its
// scrollbars are checked one by one), and a table of Dash components (one per cell) would cost dash-renderer
// as much: every mounted component is checked again at each of its store's updates.
//
// What a person can do, by mouse and by keyboard: sort on a column (its header is a button; a first press
// sorts a number column from the largest, a second from the smallest, a third puts the table's own order
// back, as the grids did; `aria-sort` says which), and, when the table names a store, filter the tab to a row
// (its name is a button: a click, Enter or Space). A cell may carry a colour (a change up or down), and a
// table its total row, kept under the rows (<tfoot>). The headers are one tab stop (the arrow keys move along
// them) and the names another (the arrow keys move up and down), as a grid is one tab stop.
(function () {
    const NEXT = {none: "descending", descending: "ascending", ascending: "none"};
    const TEXT_NEXT = {none: "ascending", ascending: "descending", descending: "none"};

    function roving(buttons, keys) {
        buttons.forEach((button, index) => {
            button.tabIndex = index === 0 ? 0 : -1;
            button.addEventListener("keydown", (event) => {
                const at = buttons.indexOf(button);
                const next = {[keys[0]]: at - 1, [keys[1]]: at + 1, Home: 0, End: buttons.length - 1}[event.key];
                if (next === undefined) {
                    return;
                }
                event.preventDefault();
                const target = buttons[Math.max(0, Math.min(buttons.length - 1, next))];
                buttons.forEach((b) => { b.tabIndex = b === target ? 0 : -1; });
                target.focus();
            });
            button.addEventListener("focus", () => buttons.forEach((b) => { b.tabIndex = b === button ? 0 : -1; }));
        });
    }

    function compare(index, direction) {
        const sign = direction === "ascending" ? 1 : -1;
        return (a, b) => {
            const x = a.cells[index][1];
            const y = b.cells[index][1];
            if (x === y) return 0;
            if (x === null || x === undefined) return 1;  // nothing to compare last, either way
            if (y === null || y === undefined) return -1;
            return (typeof x === "string" ? x.localeCompare(y) : x - y) * sign;
        };
    }

    function cell(tag, entry, first, spec, row) {
        const element = document.createElement(tag);
        const [text, , title, tone] = entry;
        if (first) {
            element.scope = "row";
            if (spec.store && row) {
                const button = document.createElement("button");
                button.type = "button";
                button.className = "telemetry-table-key";
                button.textContent = text;
                button.setAttribute("aria-label", `Filter to ${text}`);
                button.addEventListener("click", () => window.dash_clientside.set_props(
                    spec.store, {data: {data: {key: row.key}, at: Date.now()}}));
                element.appendChild(button);
            } else {
                element.textContent = text;
            }
        } else {
            element.textContent = text;
            element.className = tone ? `text-end ${tone}` : "text-end";
        }
        if (title) {
            element.title = title;
        }
        return element;
    }

    function body(table, spec, order) {
        const tbody = document.createElement("tbody");
        if (!order.length) {
            const tr = tbody.insertRow();
            const td = tr.insertCell();
            td.colSpan = spec.columns.length;
            td.className = "text-center text-secondary py-4";
            td.textContent = spec.empty;
        }
        order.forEach((row) => {
            const tr = tbody.insertRow();
            row.cells.forEach((entry, index) => tr.appendChild(cell(index ? "td" : "th", entry, !index, spec, row)));
        });
        const old = table.tBodies[0];
        const focused = old && old.contains(document.activeElement) ? document.activeElement.textContent : null;
        if (old) {
            old.replaceWith(tbody);
        } else {
            table.appendChild(tbody);
        }
        const keys = Array.from(tbody.querySelectorAll(".telemetry-table-key"));
        roving(keys, ["ArrowUp", "ArrowDown"]);
        const again = keys.find((b) => b.textContent === focused);
        if (again) {
            again.focus();
        }
    }

    function build(holder) {
        const spec = JSON.parse(holder.dataset.table);
        holder.__telemetryTable = holder.dataset.table;
        holder.textContent = "";
        const scroll = document.createElement("div");
        scroll.className = "telemetry-table-scroll";
        scroll.style.maxHeight = `${spec.height}px`;
        const table = document.createElement("table");
        table.className = "table table-sm table-hover mb-0 telemetry-table-grid";
        table.setAttribute("aria-label", spec.caption);  // a hidden <caption> still takes a pixel in Chromium
        const head = table.createTHead().insertRow();
        const state = {column: spec.columns.findIndex((c) => c.sort), direction: "descending"};
        const headers = spec.columns.map((column, index) => {
            const th = document.createElement("th");
            th.scope = "col";
            th.className = index ? "text-end" : "";
            const button = document.createElement("button");
            button.type = "button";
            button.className = "telemetry-table-sort";
            button.textContent = column.header;
            if (column.title) {
                button.title = column.title;
            }
            button.addEventListener("click", () => {
                const now = state.column === index ? state.direction : "none";
                state.direction = (index ? NEXT : TEXT_NEXT)[now];
                state.column = state.direction === "none" ? -1 : index;
                show();
            });
            th.appendChild(button);
            head.appendChild(th);
            return th;
        });
        function show() {
            headers.forEach((th, index) => th.setAttribute(
                "aria-sort", index === state.column ? state.direction : "none"));
            const order = state.column < 0 ? spec.rows.slice()
                : spec.rows.slice().sort(compare(state.column, state.direction));
            body(table, spec, order);
        }
        roving(headers.map((th) => th.firstChild), ["ArrowLeft", "ArrowRight"]);
        show();
        if (spec.total) {  // a sum stays under the rows, whatever their order
            const tr = table.createTFoot().insertRow();
            spec.total.forEach((entry, index) => tr.appendChild(cell(index ? "td" : "th", entry, !index, spec, null)));
        }
        scroll.appendChild(table);
        holder.appendChild(scroll);
    }

    function drawAll() {
        document.querySelectorAll(".telemetry-table[data-table]").forEach((holder) => {
            if (holder.__telemetryTable !== holder.dataset.table) {
                build(holder);
            }
        });
    }

    // Plotly's drawing (inside each chart's SVG) is most of a page's changes: those never hold a table
    new MutationObserver((records) => {
        if (records.some((record) => !(record.target instanceof SVGElement))) drawAll();
    }).observe(document.documentElement, {
        childList: true, subtree: true, attributes: true, attributeFilter: ["data-table"],
    });
    drawAll();
})();
