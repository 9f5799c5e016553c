"""Pictures drawn on the server as inline SVG, so no page needs a script or an image from
outside: the ticket's QR code (``qrcode`` package) and the admin's simple bar charts."""

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
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{color}" rx="3"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + bar_h * 0.7:.0f}" font-size="18" fill="#111">{shown}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
