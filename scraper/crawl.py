"""Walk a region's listing pages in a real browser and yield listing cards.

Selenium renders (JavaScript cards, load-more buttons, infinite scroll);
BeautifulSoup parses ``page_source``. Waits are explicit (WebDriverWait on the
card count or the load-more button), never fixed sleeps, except the backoff
between retries of a page that did not load.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator

from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from scraper.fetch import Fetcher
from scraper.parse import Card, is_done, next_page, parse_cards
from scraper.profile import Profile, ProfileError

log = logging.getLogger(__name__)


class CrawlError(Exception):
    """The listing pages could not be walked; the message names the URL."""


def _count(driver: WebDriver, css: str) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, css))


def _button_ready(driver: WebDriver, css: str | None) -> bool:
    if not css:
        return False
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return bool(found) and found[0].is_displayed() and found[0].is_enabled()


class ListingCrawler:
    """Yields batches of new cards, one batch per page load, click or scroll."""

    def __init__(self, driver: WebDriver, profile: Profile, fetcher: Fetcher) -> None:
        self.driver = driver
        self.profile = profile
        self.fetcher = fetcher
        self.pages = 0
        self.capped = False

    def cards(self, start_url: str) -> Iterator[list[Card]]:
        if not self.fetcher.allowed(start_url):
            raise CrawlError(f"robots.txt forbids {start_url}: nothing to scrape")
        if self.profile.listing.mode == "pages":
            yield from self._pages(start_url)
        else:
            yield from self._dynamic(start_url)

    def _nothing(self, url: str) -> ProfileError:
        return ProfileError(
            f"profile {self.profile.name}: selector listing.card {self.profile.listing.card!r} "
            f"matched nothing at {url}")

    def _stop(self, message: str, *args: object) -> None:
        """End the walk early (page cap, endless pagination), saying why."""
        log.warning(message, *args)
        self.capped = True

    def _backoff(self, attempt: int) -> None:
        time.sleep(self.fetcher.p.backoff_s * (2 ** attempt))

    def _dynamic(self, url: str) -> Iterator[list[Card]]:
        lp = self.profile.listing
        self.driver.get(url)
        seen: set[str] = set()
        stalls = 0
        shown = 0
        while True:
            with contextlib.suppress(TimeoutException):
                WebDriverWait(self.driver, lp.wait_s).until(self._changed(shown))
            html = self.driver.page_source
            cards = parse_cards(html, self.profile, url)
            fresh = [c for c in cards if c.url not in seen]
            grew = len(cards) > shown
            shown = len(cards)
            if fresh:
                seen.update(c.url for c in fresh)
                stalls = 0
                yield fresh
            elif grew:
                self._stop("%s: the site repeats listings already seen (endless pagination); stopping", url)
                return
            if is_done(html, self.profile):
                if not seen:  # the site says it is done, yet no card matched: the profile is wrong
                    raise self._nothing(url)
                return
            self.pages += 1
            if self.pages >= lp.max_pages:
                self._stop("%s: stopped at the page cap (%d)", url, lp.max_pages)
                return
            if not fresh:
                stalls += 1
                if stalls > self.fetcher.p.max_retries:
                    if not seen:
                        raise self._nothing(url)
                    raise CrawlError(f"{url}: no new listings after {stalls} tries")
                self._backoff(stalls - 1)
                self.fetcher.stats["retry:listing-page"] += 1
            self._advance(url)

    def _changed(self, shown: int) -> Callable[[WebDriver], bool]:
        """Wait condition: more cards, a usable load-more button, or the done marker."""
        lp = self.profile.listing

        def changed(d: WebDriver) -> bool:
            return (_count(d, lp.card) > shown or _button_ready(d, lp.load_more)
                    or (lp.done is not None and _count(d, lp.done) > 0))

        return changed

    def _advance(self, url: str) -> None:
        lp = self.profile.listing
        found = self.driver.find_elements(By.CSS_SELECTOR, lp.load_more) if lp.load_more else []
        if lp.mode == "load-more" and found and found[0].is_displayed():
            self.driver.execute_script("arguments[0].click();", found[0])
        else:  # scroll mode, or no button: infinite scroll
            self.driver.execute_script("window.scrollTo(0, document.body.scrollHeight);")

    def _pages(self, url: str | None) -> Iterator[list[Card]]:
        lp = self.profile.listing
        seen: set[str] = set()
        first = url
        while url is not None:
            if self.pages >= lp.max_pages:
                self._stop("%s: stopped at the page cap (%d)", first, lp.max_pages)
                return
            if not self.fetcher.allowed(url):
                log.warning("robots.txt forbids listing page %s; stopping there", url)
                return
            html = self._load(url)
            self.pages += 1
            cards = parse_cards(html, self.profile, url)
            fresh = [c for c in cards if c.url not in seen]
            if cards and not fresh:
                self._stop("%s repeats listings already seen (endless pagination); stopping", url)
                return
            seen.update(c.url for c in fresh)
            yield fresh
            url = next_page(html, self.profile, url)

    def _load(self, url: str) -> str:
        """Open a server-rendered page, retrying (with backoff) until cards show up."""
        lp = self.profile.listing
        for attempt in range(self.fetcher.p.max_retries + 1):
            try:
                self.driver.get(url)
                WebDriverWait(self.driver, min(lp.wait_s, 1.0)).until(
                    lambda d: _count(d, lp.card) > 0)
                return self.driver.page_source
            except TimeoutException:
                self.fetcher.stats["retry:listing-page"] += 1
                self._backoff(attempt)
            except WebDriverException as exc:
                raise CrawlError(f"{url}: browser error: {exc.msg}") from None
        raise self._nothing(url)
