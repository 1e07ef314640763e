"""hub.names: one spelling per name, nothing invisible or direction-changing."""

import pytest
from django.core.exceptions import ValidationError

from hub.names import normalize_name


@pytest.mark.parametrize("typed, stored", [
    ("ｆｕｌｌ", "full"), ("\ufb01le", "file"), ("e\u0301lodie", "\u00e9lodie"), ("Ⅻ", "XII"), ("plain", "plain"),
])
def test_names_are_nfkc_normalised(typed, stored):
    assert normalize_name(typed) == stored


@pytest.mark.parametrize("char", [
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # bidi embeddings and overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # bidi isolates
    "\u200e", "\u200f", "\u061c",  # direction marks
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad",  # zero-width and invisible
    "\u0000", "\u0007", "\u001b", "\u007f", "\u0085",  # controls
    "\u2028", "\u2029", "\ue000", "\U000e0001",  # separators, private use, tags
])
def test_invisible_and_direction_characters_are_refused_and_named(char):
    with pytest.raises(ValidationError) as refused:
        normalize_name(f"ab{char}cd")
    assert refused.value.code == "invisible_characters"
    assert f"U+{ord(char):04X}" in refused.value.messages[0]


def test_the_length_is_checked_after_normalising():
    """U+FDFA is one character whose NFKC form is 18: the stored name must still fit the column."""
    assert len(normalize_name("\ufdfa")) == 18
    with pytest.raises(ValidationError) as refused:
        normalize_name("\ufdfa" * 9, max_length=150)
    assert refused.value.code == "max_length"
