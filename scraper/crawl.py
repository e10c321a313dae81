"""Walk a region's listing pages and yield listing cards.

Five modes. In a real browser (Selenium renders, BeautifulSoup parses ``page_source``): ``load-more`` and
``scroll`` (JavaScript cards, a button or infinite scroll) and ``pages`` (a next-page link). Over plain HTTP
(requests, no browser): ``url-pages`` (a URL template, ``?page={page}``, ``&offset={offset}``) and ``api``
(a JSON endpoint with page, offset or cursor parameters; ``next`` reads the next cursor from the answer).

End of list: a list that stops growing (no new card after ``end_after`` scrolls, clicks or pages), a page
past the last one (an empty page, or a 4xx after the first page), the site's done marker, or the page cap.
Only a first page without any card is an error. Waits are explicit (WebDriverWait on the card count or the
load-more button), never fixed sleeps, except the backoff between tries of a list that did not grow.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from urllib.parse import urljoin

from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from scraper.fetch import Fetcher, FetchError, Response
from scraper.fields.extract import Document
from scraper.fields.jsonapi import query
from scraper.parse import Card, CardPage, is_done, next_page, read_cards
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


def fill(template: str, page: int, offset: int, cursor: str, size: int) -> str:
    """A URL template with its placeholders filled (``{page}``, ``{offset}``, ``{cursor}``, ``{size}``);
    plain ``str.replace``, so other braces in a URL stay as they are."""
    for key, value in (("page", page), ("offset", offset), ("cursor", cursor), ("size", size)):
        template = template.replace("{" + key + "}", str(value))
    return template


def decode(resp: Response) -> str:
    return resp.body.decode("utf-8", "replace")


class ListingCrawler:
    """Yields batches of new cards, one batch per page load, click or scroll.

    After the walk: ``pages`` (listing pages, clicks or scrolls), ``capped`` (stopped by the page cap or
    endless pagination), ``ended`` (why the list ended) and ``skipped`` (cards left out, by reason).
    """

    def __init__(self, driver: WebDriver | None, profile: Profile, fetcher: Fetcher) -> None:
        self.driver = driver
        self.profile = profile
        self.fetcher = fetcher
        self.pages = 0
        self.capped = False
        self.ended = ""
        self.skipped: Counter[str] = Counter()

    def cards(self, start_url: str) -> Generator[list[Card], None, None]:
        if not self.fetcher.allowed(start_url):
            raise CrawlError(f"robots.txt forbids {start_url}: nothing to scrape")
        mode = self.profile.listing.mode
        if mode in ("url-pages", "api"):
            yield from self._templated(start_url)
            return
        if self.driver is None:
            raise CrawlError(f"listing mode {mode} needs a browser")
        if mode == "pages":
            yield from self._pages(start_url)
        else:
            yield from self._dynamic(start_url)

    def _nothing(self, url: str) -> ProfileError:
        return ProfileError(
            f"profile {self.profile.name}: rule listing.card {self.profile.listing.card.describe()} "
            f"matched nothing at {url}")

    def _stop(self, message: str, *args: object) -> None:
        """End the walk early (page cap, endless pagination), saying why."""
        log.warning(message, *args)
        self.capped = True

    def _end(self, why: str, message: str, *args: object) -> None:
        """The normal end of a list."""
        log.info(message, *args)
        self.ended = why

    def _backoff(self, attempt: int) -> None:
        time.sleep(self.fetcher.p.backoff_s * (2 ** attempt))

    def _read(self, html: str, url: str) -> CardPage:
        page = read_cards(Document(url, html), self.profile)
        self.skipped.update(page.skipped)
        return page

    # -- in the browser: load-more, scroll ------------------------------------------------------
    def _dynamic(self, url: str) -> Iterator[list[Card]]:
        assert self.driver is not None
        lp = self.profile.listing
        self.fetcher.pace(url)  # delay_s and Crawl-delay hold for pages the browser loads too
        self.driver.get(url)
        seen: set[str] = set()
        stalls = 0
        shown = 0
        while True:
            with contextlib.suppress(TimeoutException):
                WebDriverWait(self.driver, lp.wait_s).until(self._changed(shown))
            html = self.driver.page_source
            self.skipped.clear()  # the whole page is read each time: its skipped cards are counted afresh
            page = self._read(html, url)
            cards = page.cards
            fresh = [c for c in cards if c.url not in seen]
            grew = page.matched > shown  # card nodes, repeats included: a list that grows by repeats is endless
            shown = page.matched
            if fresh:
                seen.update(c.url for c in fresh)
                if stalls:  # the list grew again: those waits were retries, not the end
                    self.fetcher.stats["retry:listing-page"] += stalls
                stalls = 0
                yield fresh
            elif grew:
                self._stop("%s: the site repeats listings already seen (endless pagination); stopping", url)
                return
            if is_done(html, self.profile):
                if not seen:  # the site says it is done, yet no card matched: the profile is wrong
                    raise self._nothing(url)
                self._end("done-marker", "%s: the site marks the list complete", url)
                return
            self.pages += 1
            if self.pages >= lp.max_pages:
                self._stop("%s: stopped at the page cap (%d)", url, lp.max_pages)
                return
            if not fresh:
                stalls += 1
                if stalls > lp.end_after:
                    if not seen:
                        raise self._nothing(url)
                    level = logging.WARNING if lp.done else logging.INFO
                    log.log(level, "%s: no new cards after %d %s: end of the list%s", url, lp.end_after,
                            "clicks" if lp.mode == "load-more" else "scrolls",
                            " (the done marker never appeared)" if lp.done else "")
                    self.ended = "no-new-cards"
                    return
                self._backoff(stalls - 1)
            self._advance()

    def _changed(self, shown: int) -> Callable[[WebDriver], bool]:
        """Wait condition: more cards, a usable load-more button, or the done marker."""
        lp = self.profile.listing
        css = lp.card.css or "*"

        def changed(d: WebDriver) -> bool:
            return (_count(d, css) > shown or _button_ready(d, lp.load_more)
                    or (lp.done is not None and _count(d, lp.done) > 0))

        return changed

    def _advance(self) -> None:
        assert self.driver is not None
        lp = self.profile.listing
        self.fetcher.pace(self.driver.current_url)  # a click or scroll makes the page fetch the next cards
        found = self.driver.find_elements(By.CSS_SELECTOR, lp.load_more) if lp.load_more else []
        if lp.mode == "load-more" and found and found[0].is_displayed():
            self.driver.execute_script("arguments[0].click();", found[0])
        else:  # scroll mode, or no button: infinite scroll
            self.driver.execute_script("window.scrollTo(0, document.body.scrollHeight);")

    # -- in the browser: a next-page link ---------------------------------------------------------
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
            cards = self._read(html, url).cards
            fresh = [c for c in cards if c.url not in seen]
            if cards and not fresh:
                self._stop("%s repeats listings already seen (endless pagination); stopping", url)
                return
            seen.update(c.url for c in fresh)
            yield fresh
            url = next_page(html, self.profile, url)
        self._end("last-page", "%s: no next-page link: end of the list", first)

    def _load(self, url: str) -> str:
        """Open a page in the browser, retrying (with backoff) until cards show up."""
        assert self.driver is not None
        lp = self.profile.listing
        css = lp.card.css
        for attempt in range(self.fetcher.p.max_retries + 1):
            try:
                self.fetcher.pace(url)
                self.driver.get(url)
                if css is None:  # cards from data in the page: nothing to wait for in the DOM
                    return self.driver.page_source
                WebDriverWait(self.driver, min(lp.wait_s, 1.0)).until(lambda d: _count(d, css) > 0)
                return self.driver.page_source
            except TimeoutException:
                if self.pages > 0 and lp.mode == "url-pages":
                    return self.driver.page_source  # past the last page: the caller sees no card
                self.fetcher.stats["retry:listing-page"] += 1
                self._backoff(attempt)
            except WebDriverException as exc:
                raise CrawlError(f"{url}: browser error: {exc.msg}") from None
        raise self._nothing(url)

    # -- over HTTP: URL templates and JSON APIs ---------------------------------------------------
    def _fetch(self, url: str) -> Document | None:
        """One listing document; None past the last page (a 4xx after the first page)."""
        if self.profile.listing.browser:
            return Document(url, self._load(url))
        try:
            resp, text = self.fetcher.get(url, decode)
        except FetchError as exc:
            if self.pages > 0 and exc.reason.startswith("http-4"):
                return None
            raise CrawlError(str(exc)) from None
        return Document(resp.url, text, resp.content_type)

    def _templated(self, template: str) -> Iterator[list[Card]]:
        lp = self.profile.listing
        seen: set[str] = set()
        page_no, offset, cursor = lp.first_page, 0, ""
        url = fill(template, page_no, offset, cursor, lp.page_size)
        stalls = 0
        while True:
            if self.pages >= lp.max_pages:
                self._stop("%s: stopped at the page cap (%d)", template, lp.max_pages)
                return
            if not self.fetcher.allowed(url):
                log.warning("robots.txt forbids listing page %s; stopping there", url)
                return
            doc = self._fetch(url)
            if doc is None:
                self._end("last-page", "%s: past the last page: end of the list", url)
                return
            self.pages += 1
            page = read_cards(doc, self.profile)
            self.skipped.update(page.skipped)
            if not page.matched:
                if self.pages == 1:
                    raise self._nothing(url)
                self._end("last-page", "%s: an empty page: end of the list", url)
                return
            fresh = [c for c in page.cards if c.url not in seen]
            if not fresh:
                stalls += 1
                if stalls >= lp.end_after:
                    self._stop("%s repeats listings already seen (endless pagination); stopping", url)
                    return
            else:
                stalls = 0
                seen.update(c.url for c in fresh)
                yield fresh
            page_no, offset = page_no + 1, offset + page.matched
            nxt = query(lp.next, doc.json()) if lp.next is not None else page_no
            if nxt is None or nxt in ("", False, []):
                self._end("last-page", "%s: the answer names no next page: end of the list", url)
                return
            if isinstance(nxt, str) and nxt.startswith(("http://", "https://", "/", "?")):
                url = urljoin(doc.url, nxt)  # the API gives the next page's URL itself
                continue
            if lp.next is not None:
                if "{cursor}" in template:
                    cursor = str(nxt)
                elif isinstance(nxt, int) or str(nxt).isdigit():
                    page_no = int(nxt)
            url = fill(template, page_no, offset, cursor, lp.page_size)
