"""Names people choose and others read (usernames, room names): NFKC-normalised, nothing invisible or
direction-changing."""

import unicodedata

from django.core.exceptions import ValidationError

# Control (Cc), format (Cf: the bidi embeddings, overrides and isolates U+202A-U+202E and
# U+2066-U+2069, the marks U+200E/U+200F/U+061C, zero-width spaces and joiners, the soft hyphen),
# surrogates (Cs), private use (Co), unassigned (Cn), line and paragraph separators (Zl, Zp).
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def normalize_name(value, *, max_length=None):
    """The NFKC form of `value`, or ValidationError if it holds a refused character or grew too long.

    NFKC folds the look-alike forms a reader cannot tell apart ("ｆｕｌｌ" and "ﬁle" become "full"
    and "file", a decomposed "é" becomes one character), so one name has one spelling. The
    refused characters are invisible or reorder the text around them ("abc", U+202E, "dcba" shows
    as "abcabcd"), so one user could pass for another and a line quoting a name could read otherwise.
    """
    value = unicodedata.normalize("NFKC", value)
    refused = sorted({char for char in value if unicodedata.category(char) in REFUSED_CATEGORIES})
    if refused:
        raise ValidationError(
            "Invisible or text-direction characters are not allowed (%(chars)s).",
            code="invisible_characters", params={"chars": ", ".join(f"U+{ord(char):04X}" for char in refused)})
    if max_length is not None and len(value) > max_length:
        raise ValidationError(
            "At most %(max)d characters once normalised (this is %(length)d).",
            code="max_length", params={"max": max_length, "length": len(value)})
    return value
