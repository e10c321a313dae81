"""Run the three demo sites on 127.0.0.1 (separate origins), in background threads."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from carid.params import MarketplaceParams
from marketplace.app import Site, hyderabad_app, main_app, quiet_hangups
from marketplace.carnest.app import CarnestSite, carnest_app
from marketplace.carnest.inventory import CarnestInventory
from marketplace.carnest.photos import CarnestStore
from marketplace.inventory import Inventory
from marketplace.store import PhotoStore

log = logging.getLogger(__name__)
HOST = "127.0.0.1"


@dataclass(frozen=True)
class SiteURLs:
    main: str
    hyderabad: str
    carnest: str


def _bind(port: int) -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only for it, and
    # without TCP_NODELAY every keep-alive response stalls ~40 ms on the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from None
    sock.listen(256)
    return sock


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the caller owns signals
        pass


def carnest_port_for(main_port: int) -> int:
    """Carnest's default port: two above the main site's (8802 beside 8800), any free port beside port 0."""
    return main_port + 2 if main_port else 0


@contextmanager
def running_marketplace(
    params: MarketplaceParams, main_port: int = 0, hyderabad_port: int = 0, store: PhotoStore | None = None,
    carnest_port: int | None = None, carnest_listings: int | None = None,
) -> Iterator[SiteURLs]:
    """Serve the three sites until the block exits; port 0 picks a free port.

    ``carnest_port`` None: :func:`carnest_port_for` the main port. Carnest's renders are cached beside the
    store's (``<store base>/carnest/``); ``carnest_listings`` overrides its size.
    """
    inventory = Inventory(params)
    store = store or PhotoStore()
    socks: list[socket.socket] = []
    try:
        for port in (main_port, hyderabad_port, carnest_port_for(main_port) if carnest_port is None else carnest_port):
            socks.append(_bind(port))
    except OSError:
        for sock in socks:
            sock.close()
        raise
    urls = SiteURLs(*(f"http://{HOST}:{s.getsockname()[1]}" for s in socks))
    main_site, hyd_site = Site(params, store, inventory), Site(params, store, inventory)
    carnest = CarnestSite(params, CarnestStore(store.root.parent), CarnestInventory(params, carnest_listings))
    # Off-site redirects point at another loopback host name, i.e. another origin.
    main_site.offsite_base = urls.main.replace(HOST, "127.0.0.2")
    carnest.offsite_base = urls.carnest.replace(HOST, "127.0.0.2")
    servers: list[_Server] = []
    threads: list[threading.Thread] = []
    for app, sock in ((main_app(main_site), socks[0]), (hyderabad_app(hyd_site), socks[1]),
                      (carnest_app(carnest), socks[2])):
        # asyncio + h11 named, not "auto": carid serve brings uvloop and httptools into the same environment, and
        # the demo's faults and its measured serving speed were built on these two
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=2, loop="asyncio", http="h11")
        server = _Server(config)
        logging.getLogger("uvicorn.error").addFilter(quiet_hangups)  # after Config, which sets up logging
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        servers.append(server)
        threads.append(thread)
    try:
        deadline = time.monotonic() + 15
        while not all(s.started for s in servers):
            if time.monotonic() > deadline or not all(t.is_alive() for t in threads):
                raise RuntimeError("the demo marketplace did not start")
            time.sleep(0.02)
        log.info("demo marketplace up: main %s, hyderabad %s, carnest %s", urls.main, urls.hyderabad, urls.carnest)
        yield urls
    finally:
        for server in servers:
            server.should_exit = True
        for thread in threads:
            thread.join(timeout=10)
        for sock in socks:
            sock.close()


def write_url_file(path: Path, urls: SiteURLs) -> None:
    """Tell another process where the sites are (written atomically, as JSON)."""
    import json

    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_text(json.dumps({"main": urls.main, "hyderabad": urls.hyderabad, "carnest": urls.carnest}),
                   encoding="utf-8")
    tmp.replace(path)
