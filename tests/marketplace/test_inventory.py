"""The inventory at the default seed, titles, and the answer key's consistency."""

from collections import Counter, defaultdict

from carid.params import DEFAULT_MARKETPLACE
from marketplace.inventory import MAIN_REGIONS, Inventory
from marketplace.specs import REUPLOAD_VARIANTS


def _photo_counts(inv: Inventory) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for lst in inv.listings:
        counts[(lst.site, lst.model)] += len(lst.photos)
    return counts


def test_default_inventory_meets_the_targets() -> None:
    inv = Inventory(DEFAULT_MARKETPLACE)
    counts = _photo_counts(inv)
    assert counts[("main", "swift")] >= 2200
    assert counts[("main", "wagonr")] >= 2200
    assert counts[("hyderabad", "swift")] >= 500
    assert counts[("hyderabad", "wagonr")] >= 500
    # Enough clean, unique exterior shots that 2,000 + 2,000 can survive curation.
    clean = Counter(lst.model for lst in inv.listings if lst.site == "main" for p in lst.photos
                    if not p.junk and p.model == lst.model and p.variant == "original")
    assert clean["swift"] >= 2000 and clean["wagonr"] >= 2000
    assert {lst.region for lst in inv.listings} == {*MAIN_REGIONS, "hyderabad"}


def test_galleries_junk_and_duplicates() -> None:
    inv = Inventory(DEFAULT_MARKETPLACE)
    photos = [(lst, p) for lst in inv.listings for p in lst.photos]
    assert all(3 <= len(lst.photos) <= 8 for lst in inv.listings)
    junk = sum(1 for lst, p in photos if p.junk or p.model != lst.model)
    assert 0.07 <= junk / len(photos) <= 0.13
    groups: dict[str, list] = defaultdict(list)
    for _, p in photos:
        groups[p.dup_group].append(p)
    multi = [g for g in groups.values() if len(g) > 1]
    assert len(multi) > 100
    variants = Counter(p.variant for g in multi for p in g)
    assert set(REUPLOAD_VARIANTS) <= set(variants)
    for group in multi:  # a duplicate group is one scene
        assert len({(p.scene_seed, p.model, p.junk, p.style) for p in group}) == 1
    # Re-uploads stay on their own site, so the holdout is never a copy of the main site.
    for group in multi:
        assert len({p.style for p in group}) == 1


def test_inventory_is_deterministic_per_seed() -> None:
    a = Inventory(DEFAULT_MARKETPLACE).listings
    b = Inventory(DEFAULT_MARKETPLACE).listings
    c = Inventory(DEFAULT_MARKETPLACE.model_copy(update={"seed": 8})).listings
    assert a == b
    assert [x.title for x in a] != [x.title for x in c]


def test_titles_carry_the_traps() -> None:
    titles = [(lst.model, lst.title) for lst in Inventory(DEFAULT_MARKETPLACE).listings]
    lowered = [(m, t.lower()) for m, t in titles]
    assert any(m == "dzire" and "swift" in t for m, t in lowered), "Swift Dzire trap missing"
    assert any(m == "wagonr" and "stingray" in t for m, t in lowered)
    spellings = {s for m, t in lowered if m == "wagonr" for s in ("wagon r", "wagonr", "wagon-r") if s in t}
    assert spellings == {"wagon r", "wagonr", "wagon-r"}
    assert {"alto", "baleno", "celerio"} <= {m for m, _ in titles}
