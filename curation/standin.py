"""The answer-key stand-in reviewer: plays the person for the demo, and is named as such.

It reads the demo marketplace's answer key and writes the decisions a careful
person would: reject every junk photo the automatic checks let through, with
the junk kind as the reason. Only the demo's main command uses it; a real run
has a person edit decisions.csv instead.
"""

from __future__ import annotations

from curation.decisions import Decision
from curation.outputs import Curated
from curation.scoring import Truth

NOTE = "stand-in reviewer (demo answer key)"


def standin_decisions(c: Curated, truth: dict[str, Truth]) -> dict[str, Decision]:
    """New reject decisions for accepted junk; existing decisions are left alone."""
    out: dict[str, Decision] = {}
    for v in c.verdicts:
        sha = v.photo.sha256
        t = truth.get(sha)
        if v.status == "accepted" and t is not None and t.junk_kind and sha not in c.decisions:
            out[sha] = Decision(sha, "reject", "", t.junk_kind, NOTE)
    return out
