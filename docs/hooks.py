"""MkDocs hooks for this site (mkdocs.yml's `hooks:`); kept out of the site itself by exclude_docs."""

import html
import re

# The tour notebook links the repository's README, which sits beside notebooks/ in a clone, outside the site: its
# page links the site's home instead, which says what the README says. MkDocs checks links in Markdown pages only,
# so a notebook's are mapped here.
TOUR_LINKS = {'href="../README.md"': 'href="index.html"'}

# mkdocs-jupyter's page carries a script that imports Mermaid from cdnjs.cloudflare.com once a notebook holds a Mermaid
# diagram (the tour holds none): taken out, so that nothing on the site may ask another site for anything.
OFF_SITE_SCRIPT = re.compile(r"<script\b[^>]*>(?:(?!</script>).)*?\bimport\(\s*[\"']https?://(?:(?!</script>).)*?</script>",
                             re.S)

# Names kept whole. A browser may end a line inside a run of code with no space in it: after a hyphen (`--input-` and
# `range`, `requirements-` and `dev.txt`), between brackets (`mnist[1][0]` and `[:8]`); and a code block that wraps
# breaks a run too long for what is left of a line anywhere in it (`cn.class_pictures(m` and `odel)`). So a run of up
# to SHORT characters is kept on one line (docs/stylesheets/site.css's .unbroken): inline code with no space in it (a
# name, a path, a flag) is marked class="unbroken" as a whole, and elsewhere in inline code and in code blocks each
# such run with a place to break in it is wrapped in <span class="unbroken"> (around the highlighter's elements inside
# it, or, where they do not nest, a piece in each). A longer run fits no line on a phone
# (`methods="gradient,integrated_gradients,occlusion",` in a notebook cell, `~/.keras/models/imagenet_class_index.json`
# in a list): it may go on after a dot, a comma, a colon, an equals sign, a bracket or a slash, as an editor's soft
# wrap does (a <wbr> there: nothing is added to the text a reader copies), or after a hyphen, never between two
# letters. Inline code is a bare <code> element, as Markdown, mkdocstrings and the notebook's Markdown cells write it;
# a code block is a <pre> element. tests/test_docs.py checks the result in a browser, with the same SHORT.
CODE = re.compile(r"<pre\b[^>]*>.*?</pre>|<code>((?:(?!</?code\b).)*?)</code>", re.S)
TAG = re.compile(r"(<[^>]*>)")
VOID = re.compile(r"<(wbr|br|img|hr|input)\b", re.I)
SHORT = 32  # a run this long, and a wrapped line's indent of 4, fit a line of code on a 360 px phone
WRAP_AFTER = ".,:;=([{)]}/"
KEEP, END = '<span class="unbroken">', "</span>"


def opens(tag: str) -> bool:
    """Whether `tag` opens an element that a later tag closes."""
    return not tag.startswith("</") and not VOID.match(tag)


def runs_of(tokens: list[str]) -> list[tuple[int, int]]:
    """Where each run of text between spaces starts and stops in `tokens` (tags and characters), tags inside it included."""
    runs, first, last = [], None, None
    for index, token in enumerate([*tokens, " "]):
        if len(token) > 1:  # a tag
            continue
        if not token.isspace():
            first, last = (index if first is None else first), index
        elif first is not None:
            runs.append((first, last + 1))
            first = None
    return runs


def around(tokens: list[str], first: int, stop: int) -> tuple[int, int] | None:
    """Where one span around the run tokens[first:stop] starts and stops, taking in the elements it starts and ends
    inside; None where those do not nest in it."""
    depth, lowest = 0, 0
    for token in tokens[first:stop]:
        if len(token) > 1 and not VOID.match(token):
            depth += 1 if opens(token) else -1
            lowest = min(lowest, depth)
    left, right = first + lowest, stop + depth - lowest
    if left < 0 or right > len(tokens):
        return None
    if all(len(token) > 1 and opens(token) for token in tokens[left:first]) and \
            all(len(token) > 1 and token.startswith("</") for token in tokens[stop:right]):
        return left, right
    return None


def keep_runs_whole(code: str) -> str:
    """`code` (HTML) with its runs kept whole, or broken where they may be, as above."""
    tokens = []  # each a tag or one character of text
    for index, part in enumerate(TAG.split(code)):
        tokens += [part] if index % 2 else list(html.unescape(part))
    before, after = [""] * (len(tokens) + 1), [""] * len(tokens)  # what goes before and after each token
    for first, stop in runs_of(tokens):
        characters = "".join(token for token in tokens[first:stop] if len(token) == 1)
        if len(characters) > SHORT:
            for index in range(first, stop - 1):
                after[index] += "<wbr>" if tokens[index] in WRAP_AFTER else ""
            continue
        core = characters.lstrip("([{\"'").rstrip(",.:;)]}!?\"'")
        if len(characters) == 1 or all(character.isalnum() or character == "_" for character in core):
            continue  # nowhere to break: letters, digits and underscores, and punctuation no line starts or ends with
        span = around(tokens, first, stop)
        # One span around the whole run, or else one around each piece of it between two tags.
        pieces = [span] if span else [(index, index + len(piece)) for index, piece in _pieces(tokens, first, stop)]
        for left, right in pieces:
            before[left] += KEEP
            before[right] = END + before[right]
    return "".join(before[index] + (token if len(token) > 1 else html.escape(token, quote=False)) + after[index]
                   for index, token in enumerate(tokens)) + before[len(tokens)]


def _pieces(tokens: list[str], first: int, stop: int):
    """(where it starts, its text) of each piece of text in tokens[first:stop] between two tags."""
    piece, start = "", first
    for index in range(first, stop + 1):
        if index < stop and len(tokens[index]) == 1:
            piece, start = piece + tokens[index], (start if piece else index)
        elif piece:
            yield start, piece
            piece = ""


def unbroken(match: re.Match) -> str:
    """A code block or inline code element, marked so that no name in it is broken over two lines."""
    inline = match.group(1)
    if inline is None:
        return keep_runs_whole(match.group(0))
    text = html.unescape(TAG.sub("", inline))
    if text and len(text) <= SHORT and not any(character.isspace() for character in text):
        return f'<code class="unbroken">{inline}</code>'
    return f"<code>{keep_runs_whole(inline)}</code>"


def on_page_content(html_text, page, config, files):
    """The tour page's links into the repository pointed at the site's own pages, and its script from another site
    taken out; every page's names kept whole."""
    if page.file.src_uri == "tour.ipynb":
        for old, new in TOUR_LINKS.items():
            html_text = html_text.replace(old, new)
        html_text = OFF_SITE_SCRIPT.sub("", html_text)
    return CODE.sub(unbroken, html_text)
