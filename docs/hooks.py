"""MkDocs hooks for this site (mkdocs.yml's `hooks:`); kept out of the site itself by exclude_docs."""

# The tour notebook links the repository's README, which sits beside notebooks/ in a clone, outside the site: its
# page links the site's home instead, which says what the README says. MkDocs checks links in Markdown pages only,
# so a notebook's are mapped here.
TOUR_LINKS = {'href="../README.md"': 'href="index.html"'}


def on_page_content(html, page, config, files):
    """The tour page's links into the repository, pointed at the site's own pages."""
    if page.file.src_uri == "tour.ipynb":
        for old, new in TOUR_LINKS.items():
            html = html.replace(old, new)
    return html
