"""French typography: no line break between a word and the « : ; ! ? » after it, nor inside
« guillemets ».

French puts a space before the high punctuation and inside guillemets; written as an
ordinary space, a browser or a mail reader may break the line there and leave « : » alone at
the start of the next one. The rule used everywhere: a narrow no-break space (U+202F) before
« ; ! ? » and « » », and after « « »; a no-break space (U+00A0) before « : », the wider space
the Imprimerie nationale asks there. Plain text (e-mails' text part and subject) uses U+00A0
throughout: some mail readers' fonts have no narrow one.

Only existing spaces change: no space is ever added, so a URL (`https://`), a time
(« 10:30 »), JSON (`"a": 1`) or code without a space before its colon is left alone. Code
with one (a JavaScript `a ? b : c`) must not be given to `french_spacing`: `french_html`
skips scripts, styles, code and form fields' contents.
"""

from __future__ import annotations

import re
from bisect import bisect_right

NO_BREAK_SPACE = "\u00a0"
NARROW_NO_BREAK_SPACE = "\u202f"

_WHITE = " \t\r\n"
_MARKS = ":;!?»«"


def french_spacing(text: str, *, narrow: bool = True) -> str:
    """`text` with each run of spaces before « : ; ! ? » » and after « « » made unbreakable
    (U+00A0 before « : », U+202F elsewhere; U+00A0 everywhere when not `narrow`)."""
    return _replaced(text, _breakable_spaces(text, narrow))


# Where a page's space is not French text: the contents of scripts and styles (code), of
# code samples (`<code>`, `<pre>`, `<kbd>`, `<samp>`: a curl command, an identifier) and of
# text areas (what the visitor typed: sent back with the form, it must come back as it was).
_NOT_TEXT = ("script", "style", "textarea", "pre", "code", "kbd", "samp")
# A tag's attributes read as text (a tooltip, a screen reader's label), unlike `href`,
# `value` (sent back with the form) or `data-*` (read by scripts).
_TEXT_ATTRIBUTES = frozenset(
    {"title", "alt", "placeholder", "aria-label", "aria-description", "aria-roledescription"}
)
_ATTRIBUTE_VALUE = re.compile(r"""([\w:-]+)\s*=\s*(?:"[^"]*|'[^']*)$""")


def french_html(html: str) -> str:
    """An HTML page or e-mail with its text and text attributes spaced as `french_spacing`
    does, never its scripts, styles, code, form values, URLs or comments."""
    # Found with `str.find` on the few marks, then looked at one by one: a regular expression
    # over every tag or every space took 0.1 to 0.3 s on a month's planning (600 kB); this
    # takes a few ms, and nothing when the page has no such space.
    spaces = _breakable_spaces(html, narrow=True)
    if not spaces:
        return html
    blocks = _not_text_blocks(html)
    block_starts = [start for start, _ in blocks]

    def shown(start: int) -> bool:
        block = bisect_right(block_starts, start) - 1
        if block >= 0 and start < blocks[block][1]:
            return False
        return _in_text_or_text_attribute(html, start)

    return _replaced(html, [space for space in spaces if shown(space[0])])


def _breakable_spaces(text: str, narrow: bool) -> list[tuple[int, int, str]]:
    """(start, end, no-break space) of each run of spaces before « : ; ! ? » » or after « « »,
    in order."""
    thin = NARROW_NO_BREAK_SPACE if narrow else NO_BREAK_SPACE
    found: dict[int, tuple[int, int, str]] = {}
    for mark in _MARKS:
        at = text.find(mark)
        while at >= 0:
            start, end = at, at
            if mark == "«":
                start = end = at + 1
                while end < len(text) and text[end] in _WHITE:
                    end += 1
            else:
                while start > 0 and text[start - 1] in _WHITE:
                    start -= 1
            if start < end:
                found[start] = (start, end, NO_BREAK_SPACE if mark == ":" else thin)
            at = text.find(mark, at + 1)
    return sorted(found.values())


def _replaced(text: str, spaces: list[tuple[int, int, str]]) -> str:
    """`text` with each (start, end) replaced by its no-break space."""
    if not spaces:
        return text
    pieces: list[str] = []
    done = 0
    for start, end, unbreakable in spaces:
        if start < done:  # « « : » (the same spaces after « and before « : »)
            continue
        pieces += (text[done:start], unbreakable)
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _not_text_blocks(html: str) -> list[tuple[int, int]]:
    """(start, end) of the comments and of the `_NOT_TEXT` elements, in order (tags written in
    lower case, as all of the portal's templates do)."""
    blocks = []
    for opening, closing in (("<!--", "-->"), *((f"<{n}", f"</{n}>") for n in _NOT_TEXT)):
        at = html.find(opening)
        while at >= 0:
            after = html[at + len(opening) : at + len(opening) + 1]
            if opening == "<!--" or after in (">", "/", *_WHITE):  # not « <codex »
                end = html.find(closing, at + len(opening))
                end = len(html) if end < 0 else end + len(closing)
                blocks.append((at, end))
            else:
                end = at + len(opening)
            at = html.find(opening, end)
    return sorted(blocks)


def _in_text_or_text_attribute(html: str, at: int) -> bool:
    """Whether position `at` (outside scripts, styles, code…) lies in text, or in a tag within
    a text attribute's value."""
    tag = html.rfind("<", 0, at)
    if tag <= html.rfind(">", 0, at):
        return True  # text: a text's « < » is escaped, so the last one opened a tag, closed
    attribute = _ATTRIBUTE_VALUE.search(html, tag, at)
    return attribute is not None and attribute[1].lower() in _TEXT_ATTRIBUTES
