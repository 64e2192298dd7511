// The "i" beside a KPI's or a card's title (layouts/_components.py `info_tip`): its definition in a tooltip,
// on hover and on keyboard focus, drawn by the browser from the one Dash component the "i" is (its
// `data-tip`). A Dash tooltip of its own for each "i" was one more component for dash-renderer to check at
// every update of its store, in every tab switch, and one more Popper instance. One tooltip element serves every
// "i" of the page, in Bootstrap's tooltip look; while it shows, the "i" is described by it; Escape hides it.
(function () {
    const TIP_ID = "telemetry-tip";
    let shownFor = null;

    function tooltip() {
        let tip = document.getElementById(TIP_ID);
        if (!tip) {
            tip = document.createElement("div");
            tip.id = TIP_ID;
            tip.className = "tooltip bs-tooltip-bottom telemetry-tip-text";
            tip.setAttribute("role", "tooltip");
            const arrow = document.createElement("div");
            arrow.className = "tooltip-arrow";
            const inner = document.createElement("div");
            inner.className = "tooltip-inner";
            tip.append(arrow, inner);
            document.body.appendChild(tip);
        }
        return tip;
    }

    function show(badge) {
        const tip = tooltip();
        tip.lastChild.textContent = badge.dataset.tip;
        tip.style.left = "0px";  // measured at the left edge: a tip left at the right edge would wrap narrow
        tip.classList.add("show");
        const box = badge.getBoundingClientRect();
        const width = tip.offsetWidth;
        const left = Math.max(4, Math.min(box.left + box.width / 2 - width / 2,
                                          document.documentElement.clientWidth - width - 4));
        tip.style.left = `${left + window.scrollX}px`;
        tip.style.top = `${box.bottom + window.scrollY}px`;
        tip.firstChild.style.left = `${box.left + box.width / 2 - left - 6}px`;  // the arrow under the "i"
        badge.setAttribute("aria-describedby", TIP_ID);
        shownFor = badge;
    }

    function hide() {
        if (shownFor) {
            shownFor.removeAttribute("aria-describedby");
            shownFor = null;
        }
        const tip = document.getElementById(TIP_ID);
        if (tip) {
            tip.classList.remove("show");
        }
    }

    function badgeOf(event) {
        return event.target.closest && event.target.closest(".telemetry-tip[data-tip]");
    }

    document.addEventListener("focusin", (event) => { const b = badgeOf(event); if (b) show(b); });
    document.addEventListener("focusout", (event) => { if (badgeOf(event) === shownFor) hide(); });
    document.addEventListener("mouseover", (event) => { const b = badgeOf(event); if (b && b !== shownFor) show(b); });
    document.addEventListener("mouseout", (event) => {
        const b = badgeOf(event);
        if (b && b === shownFor && b !== document.activeElement && !b.contains(event.relatedTarget)) hide();
    });
    document.addEventListener("keydown", (event) => { if (event.key === "Escape") hide(); });
    // a tab switch takes the "i" away with its page: its tooltip goes with it
    new MutationObserver(() => { if (shownFor && !shownFor.isConnected) hide(); })
        .observe(document.documentElement, {childList: true, subtree: true});
})();
