"""Identifiers in extracts: the secret salt, a common form for references, and keyed hashing.

Crime and case references are replaced by a keyed hash (HMAC-SHA-256 with a secret salt) so that the same crime
links across the force's and the providers' extracts without the reference itself being kept. References are
first put in one form, so that ``LE/12345/21``, ``le-12345-21`` and ``LE 12345 21`` link: upper case, with
spaces and the separators ``/ - _ .`` removed. Where a provider writes a reference quite differently, the area
configuration can rebuild it from a regular expression (``pattern``, with named groups) and a ``format``.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["MIN_SALT_LENGTH", "SALT_HELP", "get_salt", "check_salt", "normalise_ids", "pseudonymise"]

MIN_SALT_LENGTH = 16
SALT_HELP = (
    "Make one once with: python -c \"import secrets; print(secrets.token_urlsafe(32))\", keep it in a password "
    "manager, and set it in the environment before each run (for example export VICTIMNEEDS_SALT='...'). Use the "
    "same salt for every extract of an area so that references link, and never write it in the area "
    "configuration, the repository or the pack: anyone who holds it can test whether a known reference is in the "
    "data."
)


def check_salt(salt: str | None, where: str, variable: str = "VICTIMNEEDS_SALT") -> str:
    """Return the salt, or raise ValueError explaining how to make and keep one."""
    if not salt:
        raise ValueError(
            f"{where} pseudonymises references, which needs a secret salt in the environment variable {variable}, "
            f"which is not set. {SALT_HELP}"
        )
    if len(salt) < MIN_SALT_LENGTH:
        raise ValueError(
            f"{where}: the salt in {variable} is {len(salt)} characters long; at least {MIN_SALT_LENGTH} are needed "
            f"so that hashed references cannot be recovered by trying every short salt. {SALT_HELP}"
        )
    return salt


def get_salt(variable: str, where: str) -> str:
    """The salt held by the environment variable ``variable`` (checked with :func:`check_salt`)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable or ""):
        raise ValueError(f"{where}: salt_env must name an environment variable, got {variable!r}.")
    return check_salt(os.environ.get(variable), where, variable)


_SEPARATORS = re.compile(r"[\s/\-_.\\]+")  # RE2 accepts it too


def normalise_ids(values: pd.Series, rule: Mapping[str, str] | None = None) -> tuple[pd.Series, pd.Series]:
    """References in one form; returns ``(ids, bad)`` where ``bad`` marks values the rule's pattern rejects.

    Examples
    --------
    >>> normalise_ids(pd.Series(["LE/12345/21", "le-12345-21", None]))[0].tolist()
    ['LE1234521', 'LE1234521', None]
    >>> rule = {"pattern": r"(?P<num>\\d+)/(?P<yy>\\d{2})", "format": "LE{num}{yy}"}
    >>> normalise_ids(pd.Series(["12345/21", "x"]), rule)[0].tolist()
    ['LE1234521', None]
    """
    present = values.notna()
    codes, uniques = pd.factorize(values[present].astype(str))
    texts = pd.Series(np.asarray(uniques, dtype=object), dtype=object).astype(str).tolist()
    ok = np.ones(len(texts), dtype=bool)
    if rule:
        pattern = re.compile(rule["pattern"])
        fmt = rule.get("format")
        built = []
        for i, t in enumerate(texts):
            m = pattern.fullmatch(t.strip())
            if m is None:
                ok[i] = False
                built.append("")
            else:
                built.append(fmt.format(**m.groupdict()) if fmt else t)
        texts = built
    import pyarrow as pa
    import pyarrow.compute as pc

    forms = pc.utf8_upper(pc.replace_substring_regex(pa.array(texts, type=pa.string()), _SEPARATORS.pattern, ""))
    forms = np.asarray(forms.to_numpy(zero_copy_only=False), dtype=object)
    forms[~ok] = None
    out = pd.Series(None, index=values.index, dtype=object)
    bad = pd.Series(False, index=values.index)
    if len(codes):
        out.loc[present] = forms[codes]
        bad.loc[present] = ~ok[codes]
    return out.where(out.notna(), None), bad


def pseudonymise(values: pd.Series, salt: str, length: int = 20) -> pd.Series:
    """Replace identifiers by the first ``length`` hex digits of HMAC-SHA-256(salt, value).

    Missing values stay missing. The same value and salt always give the same pseudonym.

    References
    ----------
    Krawczyk, H., Bellare, M. and Canetti, R. (1997). HMAC: keyed-hashing for message authentication.
    RFC 2104.

    Examples
    --------
    >>> p = pseudonymise(pd.Series(["A1", "A1", None]), salt="k" * 16)
    >>> len(p[0]), bool(p[0] == p[1]), p.isna().tolist()
    (20, True, [False, False, True])
    """
    key = salt.encode("utf-8")
    present = values.notna()
    codes, uniques = pd.factorize(values[present].astype(str).str.strip())
    texts = pd.Series(np.asarray(uniques, dtype=object), dtype=object).astype(str).tolist()
    hashed = np.array([hmac.digest(key, t.encode("utf-8"), "sha256").hex()[:length] for t in texts], dtype=object)
    out = pd.Series(None, index=values.index, dtype=object, name=values.name)
    if len(codes):
        out.loc[present] = hashed[codes]
    return out.where(present, None)
