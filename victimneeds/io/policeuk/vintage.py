"""LSOA code vintage: 2011 codes against codes new in 2021."""

from __future__ import annotations

from collections.abc import Collection, Iterable

import numpy as np
import pandas as pd

#: The highest LSOA 2011 code in England and in Wales (ONS OA11-LSOA11-MSOA11-LAD17 lookup: 32,844
#: English LSOAs E01000001-E01033768, 1,909 Welsh LSOAs W01000001-W01001958). LSOA 2021 codes for
#: unchanged areas reuse the 2011 codes; new 2021 LSOAs take codes above these.
_LSOA11_MAX = {"E01": 33768, "W01": 1958}


def lsoa_vintage(codes: Iterable[str], lsoa2011: Collection[str] | None = None) -> pd.Series:
    """Say for each LSOA code whether it is a 2011 code or a code new in 2021.

    LSOA 2021 keeps the 2011 code of every unchanged LSOA, so a code can only be told apart when it
    is new: a code is ``"2021"`` if it is not a 2011 code, else ``"2011"`` (valid for 2011, and for
    2021 too when the area did not change). Without ``lsoa2011`` (the set of 2011 codes, e.g. from
    :func:`victimneeds.io.read_lookup`) the check uses the highest 2011 code of England (E01033768)
    and Wales (W01001958) from the ONS 2011 lookup.

    Examples
    --------
    >>> lsoa_vintage(["E01025631", "E01035000", "W01001958"]).tolist()
    ['2011', '2021', '2011']
    """
    codes = pd.Series(list(codes), dtype=object)
    if lsoa2011 is not None:
        known = set(lsoa2011)
        is_2011 = codes.map(lambda c: c in known)
    else:

        def in_range(code: object) -> bool:
            if not isinstance(code, str) or len(code) != 9 or code[:3] not in _LSOA11_MAX:
                return False
            return code[3:].isdigit() and 1 <= int(code[3:]) <= _LSOA11_MAX[code[:3]]

        is_2011 = codes.map(in_range)
    return pd.Series(np.where(is_2011.to_numpy(dtype=bool), "2011", "2021"), index=codes.index, name="vintage")
