// One Tab press's look (tests/test_browser_a11y.py `focus_walk`); the state between presses is on window.__walk.
const w = window.__walk || (window.__walk = {pending: [], done: []});
const rgba = (c) => {  // rgb(), rgba() or color(srgb r g b / a) (AG Grid's), as [0-255, 0-255, 0-255, 0-1]
  const n = (c.match(/[\d.]+/g) || []).map(Number), k = c.startsWith('color(srgb') ? 255 : 1;
  return n.length < 3 ? [0, 0, 0, 0] : [n[0] * k, n[1] * k, n[2] * k, n.length > 3 ? n[3] : 1];
};
const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3])).concat(1);
const backdrop = (e) => {  // the colour behind e's box: its ancestors' backgrounds, composed from the page down
  const chain = []; for (let a = e; a; a = a.parentElement) chain.unshift(rgba(getComputedStyle(a).backgroundColor));
  return chain.reduce((under, top) => over(top, under), [255, 255, 255, 1]);
};
const lum = (c) => { const l = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]; };
const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
const look = (e) => {  // the lines that could show the focus: drawn (2 px or more) or ''
  const s = getComputedStyle(e);
  return {
    outline: s.outlineStyle === 'none' ? '' : [parseFloat(s.outlineWidth), s.outlineColor, parseFloat(s.outlineOffset)],
    shadow: s.boxShadow === 'none' ? '' : s.boxShadow,
    border: s.borderTopStyle === 'none' ? '' : [parseFloat(s.borderTopWidth), s.borderTopColor],
  };
};
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const contrast = (colour, behind) => ratio(over(rgba(colour), behind), behind);
const seen = (e, now, before) => {  // the indicator drawn now and not before, at 2 px and 3:1 or more: '' for none
  const outside = backdrop(e.parentElement || e), inside = backdrop(e);
  if (now.outline && !same(now.outline, before.outline) && now.outline[0] >= 2) {
    const r = contrast(now.outline[1], now.outline[2] < 0 ? inside : outside);
    if (r >= 3) return `outline ${now.outline} at ${r.toFixed(1)}:1`;
  }
  if (now.shadow && now.shadow !== before.shadow) {
    const shadows = /((?:rgba?|color)\([^)]*\))\s+(-?[\d.]+)px\s+(-?[\d.]+)px\s+([\d.]+)px\s+(-?[\d.]+)px(\s+inset)?/g;
    for (const m of now.shadow.matchAll(shadows)) {
      const r = contrast(m[1], m[6] ? inside : outside);
      if (parseFloat(m[5]) >= 2 && r >= 3 && !(before.shadow || '').includes(m[0])) return `shadow ${m[0]} at ${r.toFixed(1)}:1`;
    }
  }
  if (now.border && !same(now.border, before.border) && now.border[0] >= 2) {
    const r = contrast(now.border[1], outside);
    if (r >= 3) return `border ${now.border} at ${r.toFixed(1)}:1`;
  }
  return '';
};
const name = (e) => e.id || e.getAttribute('aria-label') || e.getAttribute('col-id') || (e.textContent || '').trim().slice(0, 40) || e.tagName;
// a colour half-way through its transition is neither state; an endless one (a loading spinner) cannot be finished
document.getAnimations().forEach((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity && a.finish());
// What the focus has left, and the control around it, has its plain look: compare.
w.pending = w.pending.filter((p) => {
  if (p.rings.some((r) => r.el.matches(':focus-within'))) return true;
  w.done.push({name: p.name, where: p.where, ring: p.rings.map((r) => seen(r.el, r.now, look(r.el))).find(Boolean) || '',
    looks: JSON.stringify(p.rings.map((r) => [r.el.className, r.now, look(r.el)]))});
  return false;
});
const e = document.activeElement;
if (!e || e === document.body) return null;
const b = e.getBoundingClientRect();
const inView = b.width > 0 && b.height > 0 && b.bottom > 0 && b.right > 0 && b.top < innerHeight && b.left < innerWidth;
const where = inView ? '' : `off screen at ${Math.round(b.left)},${Math.round(b.top)} (${Math.round(b.width)}x${Math.round(b.height)}),`
  + ` the window ${innerWidth}x${innerHeight} scrolled to ${scrollY} of ${document.documentElement.scrollHeight}`;
const rings = []; for (let a = e, i = 0; a && i < 3; a = a.parentElement, i++) rings.push({el: a, now: look(a)});
w.pending.push({name: name(e), where, rings});
return e.__walkId || (e.__walkId = String(Math.random()));
