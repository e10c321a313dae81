"""``carid curate ...``: automatic curation, the review sheet and a person's decisions."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import filelock
import typer

from carid.cliutil import fail, params_or_exit
from carid.paths import project_root
from curation.decisions import CLASS_LABELS, Decision, DecisionsError, read_decisions, read_table, update_decisions
from curation.outputs import Curated, write_all

app = typer.Typer(help="Curate scraped photos: duplicates, quality checks and a manual review through CSV edits.",
                  no_args_is_help=True)
ParamsOpt = Annotated[Path, typer.Option("--params", help="params.yaml to read.")]
DecisionsOpt = Annotated[Path, typer.Option("--decisions", help="The person-edited decisions file.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output folder.")]
RawOpt = Annotated[Path, typer.Option("--raw", help="Folder of scraped shards (<site>/<region>/manifest.csv).")]
KeyOpt = Annotated[Path | None, typer.Option(
    "--answer-key", help="Demo only: score the result against the marketplace's answer key (never used to decide).")]
DECISIONS = Path("data/curation/decisions.csv")
OUT = Path("data/curated")
RAW = Path("data/raw")


def _curate(params: Path, raw: Path, decisions: Path, out: Path) -> Curated:
    from curation.run import CurateError, CuratePaths, curate

    p = params_or_exit(params)
    try:
        return curate(CuratePaths(project_root(), raw, decisions, out), p.curate, progress=sys.stderr.isatty())
    except (CurateError, DecisionsError) as exc:
        raise fail(f"curate: {exc} (nothing was written)") from None


def _score(c: Curated, answer_key: Path | None) -> dict[str, object] | None:
    if answer_key is None:
        return None
    from curation.scoring import read_answer_key, score

    if not answer_key.exists():
        raise fail(f"no answer key at {answer_key}: write one with `carid marketplace answer-key`")
    return score(c, read_answer_key(answer_key))


@app.command()
def run(params: ParamsOpt = Path("params.yaml"), raw: RawOpt = RAW, decisions: DecisionsOpt = DECISIONS,
        out: OutOpt = OUT, answer_key: KeyOpt = None) -> None:
    """Curate every shard under data/raw; write accepted, rejected, clusters, review and the report."""
    c = _curate(params, raw, decisions, out)
    scores = _score(c, answer_key)
    write_all(c, out, project_root(), scores)
    acc = sum(1 for v in c.verdicts if v.status == "accepted")
    typer.echo(f"curate: {acc} of {len(c.verdicts)} photos accepted -> {out}/accepted.csv; "
               f"report {out}/report.html; review sheet {out}/review.html")
    if c.problems:
        typer.echo(f"curate: {len(c.problems)} problems reported (see the log above and the report)")
    for key, value in (scores or {}).items():
        if isinstance(value, dict):  # e.g. recall per re-upload edit: one line each
            typer.echo(f"  {key}:")
            for sub, inner in value.items():
                typer.echo(f"    {sub}: {inner}")
        else:
            typer.echo(f"  {key}: {value}")


def _review_is_fresh(raw: Path, out: Path) -> bool:
    """review.csv exists and is newer than every manifest (so the page can start without curating again)."""
    from curation.manifests import find_manifests

    review_csv = out / "review.csv"
    manifests = find_manifests(raw)
    return review_csv.is_file() and bool(manifests) and all(
        m.stat().st_mtime_ns <= review_csv.stat().st_mtime_ns for m in manifests)


def _serve(raw: Path, decisions: Path, out: Path, host: str | None, port: int) -> None:
    from curation.review_app.data import Review, ReviewDataError
    from curation.review_app.server import ReviewPaths, Served, ServeError, serve_review

    def ready(served: Served, review: Review) -> None:
        typer.echo(f"review page: {served.url}  ({len(review.items)} photos; Ctrl-C stops)")
        if served.token:
            typer.echo(f"  listening on {served.host}:{served.port}; other machines need the token in that URL")

    paths = ReviewPaths(project_root(), raw, out / "review.csv", out / "audit.csv", decisions)
    try:
        serve_review(paths, host, port, on_ready=ready)
    except (ReviewDataError, ServeError, DecisionsError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"review page stopped; `dvc repro` applies the decisions in {decisions}")


@app.command()
def review(params: ParamsOpt = Path("params.yaml"), raw: RawOpt = RAW, decisions: DecisionsOpt = DECISIONS,
           out: OutOpt = OUT,
           serve: Annotated[bool, typer.Option("--serve", help="Then serve the review page in the browser.")] = False,
           host: Annotated[str | None, typer.Option(
               "--host", help="With --serve: listen on this address (e.g. 0.0.0.0) instead of 127.0.0.1; other "
                              "machines then need the random token in the printed URL.")] = None,
           port: Annotated[int, typer.Option("--port", help="With --serve: the port (0 picks a free one).")] = 8765,
           ) -> None:
    """Write review.csv and the HTML contact sheet (most suspicious first); --serve opens the review page."""
    if serve and _review_is_fresh(raw, out):
        typer.echo(f"{out}/review.csv is newer than every manifest: serving it")
    else:
        c = _curate(params, raw, decisions, out)
        write_all(c, out, project_root())
    if serve:
        _serve(raw, decisions, out, host, port)
        return
    typer.echo(f"open {out}/review.html in a browser; edit {out}/review.csv's decision columns and run "
               f"`carid curate fold`, or edit {decisions} directly, or run `carid curate review --serve`; "
               "then `dvc repro`")


def _update(decisions: Path, changes: dict[str, Decision | None]) -> dict[str, Decision]:
    """Merge ``changes`` into decisions.csv under its lock (the review page may be writing it too)."""
    try:
        return update_decisions(decisions, changes).decisions
    except (DecisionsError, filelock.Timeout) as exc:
        raise fail(f"{exc} (decisions.csv left as it was)") from None


@app.command()
def fold(review_csv: Annotated[Path, typer.Option("--review", help="An edited review.csv.")] = OUT / "review.csv",
         decisions: DecisionsOpt = DECISIONS) -> None:
    """Fold the decision columns of an edited review.csv into decisions.csv (nothing is dropped)."""
    try:
        current, problems = read_decisions(decisions)
    except DecisionsError as exc:
        raise fail(f"{exc} (decisions.csv left as it was)") from None
    if not review_csv.exists():
        raise fail(f"no review file at {review_csv}: run `carid curate review` first")
    header, rows = read_table(review_csv)
    if "sha256" not in header or "decision" not in header:
        raise fail(f"{review_csv}, row 1: needs columns sha256 and decision")
    changes: dict[str, Decision | None] = {}
    bad = []
    for line, rec in rows:
        choice = rec.get("decision", "").lower()
        if not choice:
            continue
        label = rec.get("decision_label", "").lower()
        if choice not in ("accept", "reject", "relabel") or (label and label not in CLASS_LABELS) or (
                choice == "relabel" and not label):
            bad.append(f"{review_csv}, row {line}: decision {choice!r} label {label!r} not understood; row skipped")
            continue
        d = Decision(rec["sha256"].lower(), choice, label, rec.get("decision_reason", ""), rec.get("note", ""))
        if current.get(d.sha256) != d:
            changes[d.sha256] = d
    for message in [*map(str, problems), *bad]:
        typer.secho(message, err=True, fg=typer.colors.YELLOW)
    updated = _update(decisions, changes)
    typer.echo(f"folded {len(changes)} decisions into {decisions} ({len(updated)} in all)")


@app.command()
def decide(
    sha256: Annotated[list[str], typer.Argument(help="sha256 of the photos (a unique prefix of 8+ characters).")],
    reject: Annotated[bool, typer.Option("--reject", help="Reject the photos.")] = False,
    accept: Annotated[bool, typer.Option("--accept", help="Accept the photos.")] = False,
    relabel: Annotated[str | None, typer.Option(help="Relabel (and accept) as swift or wagonr.")] = None,
    reason: Annotated[str, typer.Option(help="Why (e.g. interior).")] = "",
    note: Annotated[str, typer.Option(help="A free note.")] = "",
    decisions: DecisionsOpt = DECISIONS,
    review_csv: Annotated[Path, typer.Option("--review", help="review.csv to resolve prefixes.")] = OUT / "review.csv",
) -> None:
    """Record decisions without opening a spreadsheet: `carid curate decide 3fa1c2d4 --reject --reason interior`."""
    if sum([reject, accept, relabel is not None]) != 1:
        raise fail("give exactly one of --reject, --accept, --relabel LABEL")
    if relabel is not None and relabel not in CLASS_LABELS:
        raise fail(f"--relabel must be one of {', '.join(CLASS_LABELS)} (got {relabel!r})")
    known = [r["sha256"] for _, r in read_table(review_csv)[1]] if review_csv.exists() else []
    try:
        read_decisions(decisions)  # a file that cannot be used safely stops here, before any prefix is resolved
    except DecisionsError as exc:
        raise fail(f"{exc} (decisions.csv left as it was)") from None
    choice = "reject" if reject else "accept" if accept else "relabel"
    changes: dict[str, Decision | None] = {}
    for given in sha256:
        given = given.lower()
        matches = sorted({k for k in known if k.startswith(given)}) if len(given) < 64 else [given]
        if len(given) < 8 or len(matches) != 1:
            raise fail(f"{given!r} matches {len(matches)} photos in {review_csv}; give 8+ characters of one sha256")
        changes[matches[0]] = Decision(matches[0], choice, relabel or "", reason, note)
    _update(decisions, changes)
    typer.echo(f"recorded {len(sha256)} decisions in {decisions}")


@app.command()
def seeds(
    seed: Annotated[list[int], typer.Argument(help="Marketplace seeds to score, e.g. 7 11 23.")],
    out: Annotated[Path, typer.Option("--out", help="JSON table to write.")] = OUT / "seeds.json",
    params: ParamsOpt = Path("params.yaml"),
    extra_listings_per_region: Annotated[int | None, typer.Option(
        min=1, help="Main-site listings per region for the seeds other than the marketplace params' own "
                    "(default: the params' size).")] = None,
    extra_hyderabad_listings: Annotated[int | None, typer.Option(
        min=1, help="Hyderabad-site listings for the other seeds (default: the params' size).")] = None,
) -> None:
    """DEMO ONLY: curate each seed's demo marketplace and score it against its answer key (review order, duplicates)."""
    from curation.seeds import seeds_table, shards_of, write_table

    p = params_or_exit(params)
    size = {k: v for k, v in (("listings_per_region", extra_listings_per_region),
                              ("hyderabad_listings", extra_hyderabad_listings)) if v}
    table = seeds_table(seed, p.marketplace, shards_of(p.scrape.shards), p.curate, size,
                        progress=sys.stderr.isatty())
    write_table(out, table)
    for line in table.lines():
        typer.echo(line)
    typer.echo(f"wrote {out}")


@app.command("standin-review")
def standin_review(
    answer_key: Annotated[Path, typer.Option(help="The demo marketplace's answer key CSV.")],
    params: ParamsOpt = Path("params.yaml"), raw: RawOpt = RAW, decisions: DecisionsOpt = DECISIONS,
    out: OutOpt = OUT,
) -> None:
    """DEMO ONLY: the answer-key stand-in reviewer rejects the junk a person would (reads the answer key)."""
    from curation.scoring import read_answer_key
    from curation.standin import standin_decisions

    c = _curate(params, raw, decisions, out)
    new = standin_decisions(c, read_answer_key(answer_key))
    _update(decisions, dict(new))
    typer.echo(f"stand-in reviewer (answer key): added {len(new)} reject decisions to {decisions}")
