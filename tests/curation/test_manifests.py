"""Reading shard manifests defensively: bad rows and missing columns are reported, never fatal."""

from __future__ import annotations

from pathlib import Path

from curation.manifests import find_manifests, read_manifests

HEADER = "sha256,path,site,region,listing_id,label,width,height\n"


def test_bad_rows_and_files_are_reported(tmp_path: Path) -> None:
    good = tmp_path / "raw/s/r1/manifest.csv"
    good.parent.mkdir(parents=True)
    good.write_bytes(("\ufeff" + HEADER + f"{'a' * 64},p.jpg,s,r1,L2,swift,400,300\r\n"
                      f"short,p.jpg,s,r1,L1,swift,400,300\r\n"
                      f"{'b' * 64},q.jpg,s,r1,L1,wagonr,x,300\r\n").encode())
    broken = tmp_path / "raw/s/r2/manifest.csv"
    broken.parent.mkdir(parents=True)
    broken.write_text("sha256,path\n" + "c" * 64 + ",x.jpg\n", encoding="utf-8")
    paths = find_manifests(tmp_path / "raw")
    assert paths == [good, broken]
    photos, problems = read_manifests(paths)
    assert [p.listing_id for p in photos] == ["L1", "L2"]  # sorted by listing, bad row skipped
    assert photos[0].width == 0  # an unreadable number is not fatal
    messages = [str(p) for p in problems]
    assert f"{good}, row 3: bad sha256 'short'" in messages[0]
    assert f"{broken}, row 1: missing column site" in messages[1]
