"""Icons as inline SVG: no emoji font, no icon font, no CDN.

A glyph from an emoji font shows as an empty box on a server or a desktop without one (most Linux
installs, many corporate Windows images), and it looks different on every system. These are line
drawings in the style of Feather icons (MIT licence), 24×24, drawn with `currentColor` so they take
the colour of the text around them. `{% load icons %}{% icon "calendar" %}` draws one.

Apps name an icon by key (`register_kind(..., icon="calendar")`). An emoji that older code passed is
mapped to its key (`icon_key`), and an unknown name draws the dot, so a plugin never breaks a page.
"""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

ICONS: dict[str, str] = {
    "note": '<path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z"/><polyline points="14 2 14 8 20 8"/>'
    '<line x1="16" y1="13" x2="8" y2="13"/><line x1="16" y1="17" x2="8" y2="17"/>',
    "meeting": '<path d="M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2"/><circle cx="9" cy="7" r="4"/>'
    '<path d="M23 21v-2a4 4 0 0 0-3-3.87"/><path d="M16 3.13a4 4 0 0 1 0 7.75"/>',
    "call": '<path d="M22 16.92v3a2 2 0 0 1-2.18 2 19.79 19.79 0 0 1-8.63-3.07 19.5 19.5 0 0 1-6-6 '
    "19.79 19.79 0 0 1-3.07-8.67A2 2 0 0 1 4.11 2h3a2 2 0 0 1 2 1.72 12.84 12.84 0 0 0 .7 2.81 2 2 0 0 1-.45 "
    '2.11L8.09 9.91a16 16 0 0 0 6 6l1.27-1.27a2 2 0 0 1 2.11-.45 12.84 12.84 0 0 0 2.81.7A2 2 0 0 1 22 16.92z"/>',
    "email": '<path d="M4 4h16c1.1 0 2 .9 2 2v12c0 1.1-.9 2-2 2H4c-1.1 0-2-.9-2-2V6c0-1.1.9-2 2-2z"/>'
    '<polyline points="22,6 12,13 2,6"/>',
    "message": '<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/>',
    "account": '<rect x="4" y="2" width="16" height="20" rx="2"/><path d="M9 22v-4h6v4"/>'
    '<path d="M8 6h.01M12 6h.01M16 6h.01M8 10h.01M12 10h.01M16 10h.01M8 14h.01M12 14h.01M16 14h.01"/>',
    "edit": '<path d="M17 3a2.83 2.83 0 1 1 4 4L7.5 20.5 2 22l1.5-5.5z"/>',
    "contact": '<path d="M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2"/><circle cx="12" cy="7" r="4"/>',
    "user-plus": '<path d="M16 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2"/><circle cx="8.5" cy="7" r="4"/>'
    '<line x1="20" y1="8" x2="20" y2="14"/><line x1="23" y1="11" x2="17" y2="11"/>',
    "user-minus": '<path d="M16 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2"/><circle cx="8.5" cy="7" r="4"/>'
    '<line x1="23" y1="11" x2="17" y2="11"/>',
    "revenue": '<line x1="12" y1="1" x2="12" y2="23"/><path d="M17 5H9.5a3.5 3.5 0 0 0 0 7h5a3.5 3.5 0 0 1 0 7H6"/>',
    "warning": '<path d="M10.29 3.86 1.82 18a2 2 0 0 0 1.71 3h16.94a2 2 0 0 0 1.71-3L13.71 3.86a2 2 0 0 0-3.42 0z"/>'
    '<line x1="12" y1="9" x2="12" y2="13"/><line x1="12" y1="17" x2="12.01" y2="17"/>',
    "check": '<polyline points="20 6 9 17 4 12"/>',
    "check-circle": '<path d="M22 11.08V12a10 10 0 1 1-5.93-9.14"/><polyline points="22 4 12 14.01 9 11.01"/>',
    "check-square": '<polyline points="9 11 12 14 22 4"/>'
    '<path d="M21 12v7a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h11"/>',
    "x": '<line x1="18" y1="6" x2="6" y2="18"/><line x1="6" y1="6" x2="18" y2="18"/>',
    "x-circle": '<circle cx="12" cy="12" r="10"/><line x1="15" y1="9" x2="9" y2="15"/>'
    '<line x1="9" y1="9" x2="15" y2="15"/>',
    "compass": '<circle cx="12" cy="12" r="10"/><polygon points="16.24 7.76 14.12 14.12 7.76 16.24 9.88 9.88 16.24 7.76"/>',
    "calendar": '<rect x="3" y="4" width="18" height="18" rx="2"/><line x1="16" y1="2" x2="16" y2="6"/>'
    '<line x1="8" y1="2" x2="8" y2="6"/><line x1="3" y1="10" x2="21" y2="10"/>',
    "renewal": '<polyline points="23 4 23 10 17 10"/><polyline points="1 20 1 14 7 14"/>'
    '<path d="M3.51 9a9 9 0 0 1 14.85-3.36L23 10M1 14l4.64 4.36A9 9 0 0 0 20.49 15"/>',
    "playbook": '<path d="M16 4h2a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h2"/>'
    '<rect x="8" y="2" width="8" height="4" rx="1"/>',
    "play": '<polygon points="6 3 20 12 6 21 6 3"/>',
    "stop": '<rect x="5" y="5" width="14" height="14" rx="2"/>',
    "flag": '<path d="M4 15s1-1 4-1 5 2 8 2 4-1 4-1V3s-1 1-4 1-5-2-8-2-4 1-4 1z"/><line x1="4" y1="22" x2="4" y2="15"/>',
    "alert": '<path d="M18 8A6 6 0 0 0 6 8c0 7-3 9-3 9h18s-3-2-3-9"/><path d="M13.73 21a2 2 0 0 1-3.46 0"/>',
    "health": '<polyline points="22 12 18 12 15 21 9 3 6 12 2 12"/>',
    "trend-up": '<polyline points="23 6 13.5 15.5 8.5 10.5 1 18"/><polyline points="17 6 23 6 23 12"/>',
    "trend-down": '<polyline points="23 18 13.5 8.5 8.5 13.5 1 6"/><polyline points="17 18 23 18 23 12"/>',
    "dot": '<circle cx="12" cy="12" r="4" fill="currentColor"/>',
}

# What older callers passed (emoji and symbols) → the key that draws the same idea.
EMOJI: dict[str, str] = {
    "📝": "note",
    "🗒": "note",
    "👥": "meeting",
    "📞": "call",
    "☎": "call",
    "✉️": "email",
    "✉": "email",
    "📧": "email",
    "💬": "message",
    "🏢": "account",
    "✏️": "edit",
    "✏": "edit",
    "👤": "contact",
    "🤝": "user-plus",
    "👋": "user-minus",
    "💰": "revenue",
    "💵": "revenue",
    "⚠": "warning",
    "⚠️": "warning",
    "✓": "check",
    "✔": "check-circle",
    "✔️": "check-circle",
    "✅": "check-circle",
    "☑": "check-square",
    "☑️": "check-square",
    "✗": "x-circle",
    "✘": "x-circle",
    "❌": "x-circle",
    "🧭": "compass",
    "📅": "calendar",
    "📆": "calendar",
    "🗓": "calendar",
    "🔁": "renewal",
    "🔄": "renewal",
    "📋": "playbook",
    "▶": "play",
    "▶️": "play",
    "⏹": "stop",
    "⏹️": "stop",
    "🚩": "flag",
    "🔔": "alert",
    "❤️": "health",
    "💚": "health",
    "📈": "trend-up",
    "📉": "trend-down",
    "•": "dot",
}


def icon_key(name: str) -> str:
    """The icon key for `name`: a key as it is, an emoji → its key, anything else → "dot"."""
    if name in ICONS:
        return name
    return EMOJI.get(name) or EMOJI.get(name.replace("\ufe0f", "")) or "dot"


def icon_svg(name: str, *, label: str = "") -> SafeString:
    """The icon as inline SVG, 1em square in the text's colour; hidden from screen readers unless labelled."""
    key = icon_key(name)
    drawing = mark_safe(ICONS[key])  # our own constant markup above
    if label:
        return format_html(
            '<svg class="icon icon-{}" viewBox="0 0 24 24" width="1em" height="1em" fill="none" stroke="currentColor"'
            ' stroke-width="2" stroke-linecap="round" stroke-linejoin="round" role="img" aria-label="{}">{}</svg>',
            key,
            label,
            drawing,
        )
    return format_html(
        '<svg class="icon icon-{}" viewBox="0 0 24 24" width="1em" height="1em" fill="none" stroke="currentColor"'
        ' stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">{}</svg>',
        key,
        drawing,
    )
