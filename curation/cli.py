"""``carid curate ...``: automatic curation, the review sheet and a person's decisions."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import filelock
import typer

from carid.cliutil import fail, params_or_exit
from carid.params import Params
from carid.paths import project_root
from curation.decisions import CLASS_LABELS, Decision, DecisionsError, read_decisions, read_table, update_decisions
from curation.outputs import Curated, write_all

if TYPE_CHECKING:
    from curation.audit_run import AuditResult

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


def _echo_scores(scores: dict[str, object], indent: str = "  ") -> None:
    for key, value in scores.items():
        if isinstance(value, dict):  # e.g. recall per re-upload edit: one line each
            typer.echo(f"{indent}{key}:")
            for sub, inner in value.items():
                typer.echo(f"{indent}  {sub}: {inner}")
        else:
            typer.echo(f"{indent}{key}: {value}")


def _audit(c: Curated, p: Params) -> AuditResult:
    """The audit of ``c`` in memory; missing weights or an unreadable photo stop the command in one line."""
    from curation.audit_run import run_audit
    from training.data import UnreadablePhoto
    from training.efficientnet import MissingWeights

    try:
        result = run_audit(c, project_root(), p.audit, p.train.transfer_weights, progress=sys.stderr.isatty())
    except (MissingWeights, UnreadablePhoto) as exc:
        raise fail(f"audit: {exc} (nothing was written)") from None
    return result


def _write_audit(result: AuditResult, out: Path, answer_key: Path | None) -> None:
    from curation.audit_run import write_audit

    write_audit(result, out, project_root())
    a = result.audit
    if a is None:
        typer.echo(f"audit: {result.notes[0]} -> {out}/review.csv in the colour-layout order")
    else:
        suggested = sum(1 for r in result.curated.audit.values() if r.suggestion)
        typer.echo(f"audit: {len(a.rows)} accepted photos scored in {result.seconds:.1f} s (classes "
                   f"{', '.join(a.classes)}); {suggested} suggestions -> {out}/audit.csv; review sheet "
                   f"{out}/review.html in the audit's order")
        for note in result.notes:
            typer.echo(f"audit: {note}")
        if result.auto_rejected:
            typer.echo(f"audit: {len(result.auto_rejected)} photos rejected by audit.auto_reject_above, left out of "
                       f"{out}/audited.csv")
    if answer_key is not None:
        from curation.scoring import audit_score, read_answer_key

        if not answer_key.exists():
            raise fail(f"no answer key at {answer_key}: write one with `carid marketplace answer-key`")
        typer.echo("  audit (answer key, accepted photos in review order):")
        _echo_scores(audit_score(result.curated, read_answer_key(answer_key)), "    ")


@app.command()
def run(params: ParamsOpt = Path("params.yaml"), raw: RawOpt = RAW, decisions: DecisionsOpt = DECISIONS,
        out: OutOpt = OUT, answer_key: KeyOpt = None,
        review: Annotated[bool, typer.Option(
            "--review/--no-review",
            help="Also write review.csv and review.html in the colour-layout order (the audit stage writes them in "
                 "its own order; with --answer-key the audit runs here and they follow it).")] = False) -> None:
    """Curate every shard under data/raw; write accepted, rejected, clusters, verdicts and the report.

    With --answer-key (demo only) the audit runs too: audit.csv and the review follow it, and both are scored."""
    c = _curate(params, raw, decisions, out)
    scores = _score(c, answer_key)
    write_all(c, out, project_root(), scores, review=review and answer_key is None)
    acc = sum(1 for v in c.verdicts if v.status == "accepted")
    typer.echo(f"curate: {acc} of {len(c.verdicts)} photos accepted -> {out}/accepted.csv; "
               f"report {out}/report.html" + (f"; review sheet {out}/review.html" if review else ""))
    if c.problems:
        typer.echo(f"curate: {len(c.problems)} problems reported (see the log above and the report)")
    _echo_scores(scores or {})
    if answer_key is not None:
        _write_audit(_audit(c, params_or_exit(params)), out, answer_key)


@app.command()
def audit(params: ParamsOpt = Path("params.yaml"), decisions: DecisionsOpt = DECISIONS, out: OutOpt = OUT,
          answer_key: KeyOpt = None) -> None:
    """Audit the accepted photos on pretrained embeddings: audit.csv, audited.csv and the review in its order.

    Reads verdicts.csv (from `carid curate run`) and decisions.csv; audit.csv is rewritten on every run and never
    read as decisions."""
    from curation.audit_run import AuditPaths, audit_from_files
    from curation.outputs import VerdictsError
    from training.data import UnreadablePhoto
    from training.efficientnet import MissingWeights

    p = params_or_exit(params)
    try:
        result = audit_from_files(AuditPaths(project_root(), out, decisions), p.audit, p.train.transfer_weights,
                                  progress=sys.stderr.isatty())
    except (VerdictsError, DecisionsError, MissingWeights, UnreadablePhoto) as exc:
        raise fail(f"audit: {exc} (nothing was written)") from None
    _write_audit(result, out, answer_key)


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
    """Curate, audit, and write review.csv and the HTML contact sheet in the audit's order (most suspicious first;
    the colour-layout order when the audit cannot run); --serve opens the review page."""
    if serve and _review_is_fresh(raw, out):
        typer.echo(f"{out}/review.csv is newer than every manifest: serving it")
    else:
        c = _curate(params, raw, decisions, out)
        write_all(c, out, project_root(), review=False)
        _write_audit(_audit(c, params_or_exit(params)), out, None)
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
    taken = 0
    for line, rec in rows:
        choice = rec.get("decision", "").lower()
        if not choice and _yes(rec.get("accept_suggestion", "")):
            taken_rec = _from_suggestion(rec)
            if taken_rec is None:
                bad.append(f"{review_csv}, row {line}: accept_suggestion is set but the suggestion "
                           f"{rec.get('suggestion', '')!r} is not one carid knows; row skipped")
                continue
            rec = taken_rec
            choice = rec["decision"]
            taken += 1
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
    typer.echo(f"folded {len(changes)} decisions into {decisions} ({len(updated)} in all; {taken} from accepted "
               "audit suggestions)")


def _yes(value: str) -> bool:
    return value.strip().lower() in ("yes", "y", "1", "true", "x")


def _from_suggestion(rec: dict[str, str]) -> dict[str, str] | None:
    """A review.csv row whose decision columns say what its audit suggestion says (None: not understood)."""
    action, _, what = rec.get("suggestion", "").partition(":")
    action, what = action.strip().lower(), what.strip().lower()
    note = rec.get("note", "") or "audit suggestion accepted"
    if action == "reject" and what:
        return {**rec, "decision": "reject", "decision_label": "", "decision_reason": what, "note": note}
    if action == "relabel" and what in CLASS_LABELS:
        return {**rec, "decision": "relabel", "decision_label": what, "decision_reason": "", "note": note}
    return None


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
