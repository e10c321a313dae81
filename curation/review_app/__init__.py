"""The review page: a local web page that writes a person's decisions into ``data/curation/decisions.csv``.

``carid curate review --serve`` is a thin shell over :func:`curation.review_app.server.serve_review`. The app
(:mod:`.app`), the data it shows (:mod:`.data`), the thumbnail cache (:mod:`.thumbs`) and the page's static files
(``static/``) live here together; decisions go through :func:`curation.decisions.update_decisions`, the same
locked, merging writer that ``carid curate fold`` and ``decide`` use.
"""
