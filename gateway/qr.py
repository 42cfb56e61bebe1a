"""QR codes drawn on the server as inline SVG, so that no script or image request is needed.

segno writes plain SVG attributes (fill, stroke, transform), never a `style`, which the
gateway's Content-Security-Policy (`style-src 'self'`) would block.
"""

from __future__ import annotations

import segno
from markupsafe import Markup

MODULE_PX = 4  # a phone's camera reads 4-px modules well; the code stays under 360 px wide


def qr_svg(text: str, label: str) -> Markup:
    """`text` as a QR code in an `<svg role="img">` whose accessible name is `label`."""
    code = segno.make(text, error="m")
    # The quiet zone (4 modules) is drawn white so the code reads on a dark page too.
    svg = code.svg_inline(
        scale=MODULE_PX, border=4, dark="#000", light="#fff", title=label, svgclass="qr"
    )
    # crispEdges: no anti-aliased seams between rows of modules, which cameras misread.
    opening = '<svg role="img" shape-rendering="crispEdges" '
    return Markup(svg.replace("<svg ", opening, 1))  # noqa: S704 (segno escaped the title)
