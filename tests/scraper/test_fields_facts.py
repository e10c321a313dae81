"""Listing facts from the text sites show."""

from __future__ import annotations

import pytest

from scraper.fields.facts import Facts, facts_from_text, fuel, number, transmission, year


@pytest.mark.parametrize(("text", "want"), [
    ("Rs 5,65,000", 565000), ("₹ 535,000", 535000), ("₹5.45 Lakh", 545000), ("₹ 10.05 lakhs", 1005000),
    ("1.2 Cr", 12000000), ("1,45,000 km", 145000), ("12k km", 12000), ("565000", 565000), ("Call for price", None),
])
def test_number(text: str, want: int | None) -> None:
    assert number(text) == want


def test_year_words_and_row() -> None:
    assert year("2011 | 47,500 km | Petrol") == 2011
    assert year("Stock 120155") is None and year("Model 1949") is None
    assert fuel("Petrol") == "petrol" and fuel("Diesel + CNG") == "diesel" and fuel("Hydrogen") == "Hydrogen"
    assert transmission("VXI AMT") == "automatic" and transmission("Manual") == "manual"
    facts = facts_from_text({"price": "₹5.45 Lakh", "year": "2021", "km": "45,000 km", "city": " Pune "})
    assert facts == Facts(price=545000, year=2021, km=45000, city="Pune")
    assert facts.as_row() == {"price": "545000", "year": "2021", "km": "45000", "fuel": "", "transmission": "",
                              "city": "Pune"}
