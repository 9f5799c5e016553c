"""What the browser tests measure of a page as a person reads it, shared by the hall's and the
county's tests: the WCAG 2 contrast of an element's text against the background it is drawn on
(the nearest opaque one; white when none is), for Playwright's ``locator.evaluate``."""

from __future__ import annotations

CONTRAST = """e => {
  const rgba = s => s.match(/[\\d.]+/g).map(Number);
  const lum = c => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                     return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  let bg = e, back = rgba(getComputedStyle(bg).backgroundColor);
  while (back.length > 3 && back[3] === 0 && bg.parentElement) { bg = bg.parentElement; back = rgba(getComputedStyle(bg).backgroundColor); }
  if (back.length > 3 && back[3] === 0) back = [255, 255, 255];
  const a = lum(rgba(getComputedStyle(e).color)), b = lum(back);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""
READABLE = 4.5  # WCAG 2 AA for text (the MIIT 适老化 rules ask the same)
