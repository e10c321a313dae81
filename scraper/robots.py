"""robots.txt by RFC 9309, read with protego.

The standard library's ``urllib.robotparser`` takes the first rule that matches,
in file order, and knows neither ``*`` inside a path nor the ``$`` end anchor.
RFC 9309 asks for the longest matching rule, ``Allow`` winning a tie, both
special characters, and every group naming the crawler merged into one;
protego implements that (and ``Crawl-delay``), so carid does not parse by hand.

What a robots.txt that could not be had means (RFC 9309 section 2.3.1):
a 4xx answer ("unavailable") allows everything; a server that keeps failing
("unreachable") is a complete disallow. A host that refuses connections is
reported as unreachable by the fetcher itself, so a run names the URL rather
than blaming robots.txt.
"""

from __future__ import annotations

from dataclasses import dataclass

from protego import Protego


def product_token(user_agent: str) -> str:
    """The name robots.txt groups are matched against: ``carid-scraper/0.1 (+url)`` -> ``carid-scraper``."""
    return user_agent.split("/", 1)[0].split()[0] if user_agent.strip() else "*"


@dataclass(frozen=True)
class RobotsRules:
    """One origin's robots.txt, as decided for one crawler; ``source`` says where it came from."""

    source: str  # "robots.txt", "unavailable (http-404)", "unreachable (...)"
    parser: Protego | None = None  # None: no file; ``allow_all`` decides
    allow_all: bool = True

    @classmethod
    def parse(cls, text: str, source: str = "robots.txt") -> RobotsRules:
        return cls(source, Protego.parse(text))

    @classmethod
    def unavailable(cls, why: str) -> RobotsRules:
        """No robots.txt (a 4xx answer, a redirect loop): everything is allowed."""
        return cls(f"unavailable ({why})", None, True)

    @classmethod
    def unreachable(cls, why: str) -> RobotsRules:
        """The server kept failing (5xx, 429, timeouts): RFC 9309 says assume complete disallow."""
        return cls(f"unreachable ({why})", None, False)

    def allowed(self, url: str, user_agent: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return self.parser.can_fetch(url, product_token(user_agent))

    def crawl_delay(self, user_agent: str) -> float:
        """Seconds the site asks between requests for this crawler (0 when it asks for none)."""
        if self.parser is None:
            return 0.0
        return max(0.0, self.parser.crawl_delay(product_token(user_agent)) or 0.0)
