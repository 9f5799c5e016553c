"""Pictures drawn on the server as inline SVG, so no page needs a script or an image from
outside: the ticket's QR code (``qrcode`` package) and the admin's charts — horizontal bars,
columns (a histogram over hours or buckets) and stacked bars (a window's busy and idle time) of
hwd-ui's admin and hwd-central's county pages.
Every bar is a ``<rect class="bar">`` carrying ``data-label`` and ``data-value`` and a
``<title>`` (the tooltip a mouse shows), so the numbers can be read back from the picture."""

from __future__ import annotations

import html
import re
import io

import qrcode
import qrcode.image.svg
from markupsafe import Markup


def qr_svg(text: str, size_px: int = 240) -> Markup:
    """A QR code as an inline ``<svg>`` element, ``size_px`` wide."""
    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M,
                       image_factory=qrcode.image.svg.SvgPathImage)
    qr.add_data(text)
    qr.make(fit=True)
    buf = io.BytesIO()
    qr.make_image().save(buf)
    svg = buf.getvalue().decode()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'\s(width|height)="[^"]*"', "", svg[:svg.index(">")]) + svg[svg.index(">"):]
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="二维码" width="{size_px}" height="{size_px}" ', 1)
    return Markup(svg)


def bar_chart(rows: list[tuple[str, float]], *, title: str = "", unit: str = "", width: int = 640,
              bar_h: int = 34, color: str = "#0b5cad") -> Markup:
    """Horizontal bars, one per ``(label, value)``; values are written at the bar end."""
    label_w, pad = 190, 8
    top = 36 if title else 8
    height = top + max(1, len(rows)) * (bar_h + pad) + pad
    biggest = max([v for _, v in rows] + [0]) or 1
    span = width - label_w - 90
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{html.escape(title)}">']
    if title:
        parts.append(f'<text x="8" y="24" font-size="20" font-weight="bold" fill="#111">{html.escape(title)}</text>')
    if not rows:
        parts.append(f'<text x="8" y="{top + 22}" font-size="18" fill="#555">暂无数据</text>')
    for i, (label, value) in enumerate(rows):
        y = top + i * (bar_h + pad)
        w = max(2, int(span * float(value) / biggest)) if value else 2
        shown = f"{value:g}{unit}" if isinstance(value, (int, float)) else html.escape(str(value))
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h * 0.7:.0f}" font-size="18" text-anchor="end" '
                     f'fill="#111">{html.escape(str(label))[:14]}</text>')
        parts.append(_bar(label_w, y, w, bar_h, color, label, value, unit))
        parts.append(f'<text x="{label_w + w + 6}" y="{y + bar_h * 0.7:.0f}" font-size="18" fill="#111">{shown}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _num(value: float) -> str:
    return f"{value:g}"


def _bar(x: float, y: float, w: float, h: float, color: str, label: str, value: float, unit: str = "",
         series: str = "") -> str:
    tip = f"{label}{'·' + series if series else ''}：{_num(value)}{unit}"
    extra = f' data-series="{html.escape(series)}"' if series else ""
    return (f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{color}" rx="2" '
            f'data-label="{html.escape(str(label))}" data-value="{_num(value)}"{extra}>'
            f'<title>{html.escape(tip)}</title></rect>')


def column_chart(rows: list[tuple[str, float]], *, title: str = "", unit: str = "", width: int = 760,
                 height: int = 300, color: str = "#0b5cad") -> Markup:
    """Vertical columns, one per ``(label, value)`` left to right; the value above each column."""
    top, bottom, left, right = (64 if title else 30), 40, 12, 12   # room for the tallest value
    plot_h = height - top - bottom
    slot = (width - left - right) / max(1, len(rows))
    biggest = max([v for _, v in rows] + [0]) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{html.escape(title)}">']
    if title:
        parts.append(f'<text x="8" y="26" font-size="20" font-weight="bold" fill="#111">{html.escape(title)}</text>')
    if not rows or not any(v for _, v in rows):
        parts.append(f'<text x="8" y="{top + 30}" font-size="18" fill="#555">暂无数据</text>')
    base = top + plot_h
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#444" stroke-width="2"/>')
    label_size = 16 if slot >= 30 else 13
    every = -(-44 // max(1, int(slot))) if slot < 44 else 1   # thin out labels that would overlap
    for i, (label, value) in enumerate(rows):
        x = left + i * slot
        h = plot_h * float(value) / biggest if value else 0
        parts.append(_bar(x + slot * 0.12, base - h, slot * 0.76, h, color, label, value, unit))
        cx = x + slot / 2
        if value and slot >= 18:
            parts.append(f'<text x="{cx:.1f}" y="{base - h - 6:.1f}" font-size="16" text-anchor="middle" '
                         f'fill="#111">{_num(value)}</text>')
        if i % every == 0:
            parts.append(f'<text x="{cx:.1f}" y="{base + 24}" font-size="{label_size}" text-anchor="middle" '
                         f'fill="#111">{html.escape(str(label))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bars(rows: list[tuple[str, list[tuple[str, float]]]], colors: dict[str, str], *, title: str = "",
                 unit: str = "", width: int = 760, bar_h: int = 34) -> Markup:
    """Horizontal bars made of parts, one bar per ``(label, [(series, value), ...])``, with a legend."""
    label_w, pad = 190, 10
    top = (40 if title else 8) + 30
    height = top + max(1, len(rows)) * (bar_h + pad) + pad
    biggest = max([sum(v for _, v in parts) for _, parts in rows] + [0]) or 1
    span = width - label_w - 110
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{html.escape(title)}">']
    if title:
        out.append(f'<text x="8" y="26" font-size="20" font-weight="bold" fill="#111">{html.escape(title)}</text>')
    x = 8
    for series, color in colors.items():
        out.append(f'<rect x="{x}" y="{top - 26}" width="18" height="18" fill="{color}"/>'
                   f'<text x="{x + 24}" y="{top - 11}" font-size="16" fill="#111">{html.escape(series)}</text>')
        x += 40 + 18 * len(series)
    if not rows:
        out.append(f'<text x="8" y="{top + 22}" font-size="18" fill="#555">暂无数据</text>')
    for i, (label, parts) in enumerate(rows):
        y = top + i * (bar_h + pad)
        out.append(f'<text x="{label_w - 8}" y="{y + bar_h * 0.7:.0f}" font-size="18" text-anchor="end" '
                   f'fill="#111">{html.escape(str(label))[:14]}</text>')
        at = float(label_w)
        for series, value in parts:
            w = span * float(value) / biggest
            out.append(_bar(at, y, w, bar_h, colors.get(series, "#888"), label, value, unit, series))
            at += w
        total = sum(v for _, v in parts)
        out.append(f'<text x="{at + 6:.1f}" y="{y + bar_h * 0.7:.0f}" font-size="18" fill="#111">'
                   f'{_num(total)}{html.escape(unit)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
