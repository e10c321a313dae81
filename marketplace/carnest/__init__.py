"""Carnest: the demo marketplace's third site, a modern single-page used-car site for Pune.

Listing data lives in ``__NEXT_DATA__`` and JSON-LD, the grid grows by infinite
scroll from a JSON API with no end marker, class names are hashed, thumbnails
come from ``srcset`` and rewrite to the full photo, and detail galleries are in
JSON-LD, a JavaScript object or a JSON endpoint. ``inventory`` decides what
exists, ``photos`` draws it, ``app`` serves it.
"""
