"""The one error a page's content raises: data that is there but cannot be read."""

from __future__ import annotations


class PageError(Exception):
    """Broken JSON in a page, a JavaScript object the parser cannot read, an API that answers HTML.

    The message names the URL; the shard stops on it (a site that changed its markup, not a fault to retry).
    """

    def __init__(self, url: str, what: str) -> None:
        super().__init__(f"{url}: {what}")
        self.url = url
        self.what = what
