"""Joining the files' tables: period, duplicate Crime IDs, missing months, LSOA vintage, outcomes, areas."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from victimneeds.datamodel import CRIME_TYPES
from victimneeds.io._report import (
    Report,
    describe_values,
)
from victimneeds.io.policeuk.arrow import _code_width, _codes, _dictionary, _mask, _month_text, _one, _pick
from victimneeds.io.policeuk.vintage import lsoa_vintage


def _tidy(values: pa.DictionaryArray, order: Sequence[str] | None = None, sort: bool = True) -> pa.DictionaryArray:
    """Keep only the dictionary values in use, sorted (or as they come, or in the given complete ``order``)."""
    codes = _codes(values)
    if order is not None:
        words = values.dictionary.to_pylist()
        position = {w: i for i, w in enumerate(order)}
        remap = np.array([position[w] for w in words] + [-1], dtype=np.int64)
        return _dictionary(remap[codes], order)
    used = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(values.dictionary)))
    if sort:  # Arrow sorts the text (by code point, as Python does)
        used = used[pc.array_sort_indices(values.dictionary.take(pa.array(used))).to_numpy()]
    remap = np.full(len(values.dictionary) + 1, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return pa.DictionaryArray.from_arrays(
        pa.array(remap[codes].astype(_code_width(len(used))), mask=codes < 0), values.dictionary.take(pa.array(used))
    )


def _keep(table: pa.Table, keep: np.ndarray) -> pa.Table:
    """The rows of ``table`` where ``keep`` is True, copying only the file chunks that lose rows."""
    if keep.all():
        return table
    columns = []
    for column in table.columns:
        chunks, start = [], 0
        for chunk in column.chunks:
            part = keep[start : start + len(chunk)]
            chunks.append(chunk if part.all() else chunk.filter(pa.array(part)))
            start += len(chunk)
        columns.append(pa.chunked_array(chunks, column.type))
    return pa.table(columns, names=table.column_names)


def _repeated(
    ids: pa.Array | pa.ChunkedArray, hashes: pa.Array | pa.ChunkedArray, synthetic: np.ndarray, fast: bool
) -> np.ndarray:
    """True for each row whose id occurs more than once.

    With ``fast`` (the synthetic ids cannot repeat), and a hash for every other row (see
    :func:`_id_hashes`), the rows are matched on their hashes and the few whose hashes repeat are
    compared as text; otherwise every id is counted as text.
    """
    hashed = _mask(pc.is_valid(hashes))
    if fast and (hashed | synthetic).all():
        rows = np.flatnonzero(hashed)
        candidates = rows[pd.Series(hashes.filter(pa.array(hashed)).to_numpy()).duplicated(keep=False).to_numpy()]
        out = np.zeros(len(ids), dtype=bool)
        if len(candidates):
            text = pd.Series(_pick(ids, candidates))
            out[candidates[text.duplicated(keep=False).to_numpy()]] = True
        return out
    counts = pc.value_counts(ids)
    repeated = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    if len(repeated) == 0:
        return np.zeros(len(ids), dtype=bool)
    return _mask(pc.is_in(ids, value_set=repeated))


def _runs(ordinals: Sequence[int]) -> str:
    """'2019-03..2019-11, 2020-02' for sorted month ordinals."""
    runs, start, prev = [], ordinals[0], ordinals[0]
    for o in list(ordinals[1:]) + [None]:
        if o is not None and o == prev + 1:
            prev = o
            continue
        runs.append(_month_text(start) if start == prev else f"{_month_text(start)}..{_month_text(prev)}")
        if o is not None:
            start = prev = o
    return ", ".join(runs)


def _assemble(
    streets: list[tuple[str, pa.Table]],
    outcome_tables: list[tuple[str, pa.Table]],
    report: Report,
    window: tuple[int, int] | None,
    months: tuple[str, str] | None,
    areas: pd.DataFrame | None,
    lsoa2011: Collection[str] | None,
    duplicates: str,
) -> pa.Table:
    """Join the files' tables into the finished Arrow table (see :func:`_canonical`), adding the checks
    across files to the report: period, duplicate Crime IDs, missing months, LSOA vintage, outcomes, area."""
    if duplicates not in ("merge", "keep"):
        raise ValueError(f"duplicates must be 'merge' or 'keep', got {duplicates!r}")
    allf = "all files"
    labels = [label for label, _ in streets]
    table = pa.concat_tables([t for _, t in streets]).unify_dictionaries()  # one chunk per file, not copied
    file_of = np.repeat(np.arange(len(streets), dtype=np.int64), [t.num_rows for _, t in streets])
    month = table.column("month").to_numpy().astype(np.int64)

    if window is not None:
        out = (month < window[0]) | (month > window[1])
        if out.any():
            report.add(
                allf,
                "outside_period",
                int(out.sum()),
                "excluded",
                f"rows dated outside {months[0]}..{months[1]} (in files named for months inside it)",
            )
            table, file_of, month = _keep(table, ~out), file_of[~out], month[~out]

    # duplicates: one hash of the ids; the work is then on the few repeated rows only
    cid = table.column("crime_id")
    outcome_codes = _codes(_one(table.column("street_outcome")))
    stems = [label.rsplit("/", 1)[-1].rsplit(":", 1)[-1].split(".")[0] for label in labels]
    dup = _repeated(
        cid,
        table.column("id_hash"),
        _mask(table.column("synthetic_id")),
        fast=len(set(stems)) == len(stems),  # synthetic ids are '<asb|row>-<file stem>-<line>'
    )
    if dup.any():
        pos = np.flatnonzero(dup)
        sub = pd.DataFrame(
            {
                "crime_id": _pick(cid, pos),
                "month": month[pos],
                "source_file": [labels[i] for i in file_of[pos]],
                "source_line": table.column("source_line").to_numpy()[pos],
                "pos": pos,
            }
        ).sort_values(["crime_id", "month", "source_file", "source_line"], kind="stable")
        is_later = sub["crime_id"].duplicated(keep="first").to_numpy()
        later = np.sort(sub["pos"].to_numpy()[is_later])
        examples = describe_values(sub["crime_id"].str.slice(0, 12) + "...", 3)
        if duplicates == "merge":
            last = sub.drop_duplicates("crime_id", keep="last").set_index("crime_id")["pos"]
            first = sub.drop_duplicates("crime_id", keep="first")
            outcome_codes[first["pos"].to_numpy()] = outcome_codes[first["crime_id"].map(last).to_numpy()]
            keep = np.ones(len(cid), dtype=bool)
            keep[later] = False
            table, file_of, month = _keep(table, keep), file_of[keep], month[keep]
            outcome_codes, cid = outcome_codes[keep], table.column("crime_id")
            action = "merged: first (earliest) row kept with the latest outcome"
        else:
            rank = (sub.groupby("crime_id").cumcount() + 1).to_numpy()
            renamed = sub.assign(new=sub["crime_id"] + "#" + rank.astype(str)).loc[is_later].sort_values("pos")
            mask = np.zeros(len(cid), dtype=bool)
            mask[later] = True
            cid = pc.replace_with_mask(_one(cid), pa.array(mask), pa.array(renamed["new"].tolist(), cid.type))
            action = "kept; ids made unique with '#2', '#3' suffixes"
        report.add(
            allf,
            "duplicate_crime_id",
            len(later),
            action,
            f"{len(later):,} extra rows repeat a Crime ID already read (the same crime published in more "
            f"than one month), e.g. {examples}",
        )
    street_outcome = _one(table.column("street_outcome"))
    street_outcome = _dictionary(outcome_codes, street_outcome.dictionary.to_pylist(), pa.large_string())

    # months missing, per force that reported the rows (in order of appearance; rows with no force last). Not
    # per force area ("Falls within"): British Transport Police rows fall within a local force's area, and
    # would fill a month whose local file is missing.
    force = _one(table.column("force"))
    supplier = _one(table.column("reported_by"))
    if supplier.null_count:  # a file without "Reported by": its force area stands in
        supplier = _one(pc.dictionary_encode(pc.coalesce(supplier.dictionary_decode(), force.dictionary_decode())))
    force_codes, force_names = _codes(supplier), supplier.dictionary.to_pylist()
    low = int(month.min()) if len(month) else 0
    for code in [c for c in range(len(force_names)) if (force_codes == c).any()] + [-1]:
        got = np.flatnonzero(np.bincount(month[force_codes == code] - low)) + low  # the months present, sorted
        if not len(got):
            continue
        label = force_names[code] if code >= 0 else "force not stated"
        first, last = _month_text(int(got[0])), _month_text(int(got[-1]))
        missing = sorted(set(range(int(got[0]), int(got[-1]) + 1)) - set(got.tolist()))
        if missing:
            report.add(
                allf,
                "months_missing",
                len(missing),
                "gap in the series",
                f"{label}: no rows for {_runs(missing)} within {first}..{last}",
            )
        else:
            report.add(
                allf,
                "months_missing",
                0,
                "none",
                f"{label}: {int(got[-1] - got[0]) + 1} consecutive months {first}..{last}",
            )

    # LSOA vintage (on the distinct codes, spread to files by code)
    area = _one(table.column("area_code"))
    area_codes, area_words = _codes(area), area.dictionary.to_pylist()
    has_area = area_codes >= 0
    used = np.flatnonzero(np.bincount(area_codes[has_area], minlength=len(area_words)))
    distinct_codes = [area_words[i] for i in used]
    is21 = np.zeros(len(area_words) + 1, dtype=bool)
    is21[used] = lsoa_vintage(distinct_codes, lsoa2011).eq("2021").to_numpy()
    how = (
        "checked against the given LSOA 2011 code list"
        if lsoa2011 is not None
        else ("checked by code range: E01000001-E01033768 and W01000001-W01001958 are 2011 codes")
    )
    rows21 = np.bincount(file_of[has_area & is21[area_codes]], minlength=len(streets))
    with_area = np.bincount(file_of[has_area], minlength=len(streets)) > 0
    file_vintages = {}
    for i in np.flatnonzero(with_area):
        file_vintages[labels[i]] = "2021" if rows21[i] else "2011"
        if rows21[i]:
            report.add(
                labels[i], "lsoa_2021_codes", int(rows21[i]), "kept", f"rows with LSOA codes new in 2021 ({how})"
            )
    distinct = set(file_vintages.values())
    n_codes21 = int(is21.sum())
    report.add(
        allf,
        "lsoa_vintage",
        len(distinct_codes),
        "checked",
        f"{len(distinct_codes):,} distinct LSOA codes, {len(distinct_codes) - n_codes21:,} valid 2011 codes and "
        f"{n_codes21:,} new 2021 codes; vintage {'/'.join(sorted(distinct)) or 'unknown'} ({how})",
    )
    if len(distinct) > 1:
        late = sorted(k for k, v in file_vintages.items() if v == "2021")
        report.add(
            allf,
            "mixed_lsoa_vintage",
            len(late),
            "kept; check the lookup used",
            f"some files use LSOA 2021 codes and others 2011 codes, e.g. {describe_values(late, 3)}",
        )

    # outcomes: the latest outcome of each Crime ID from the outcomes files
    outcome = street_outcome.dictionary_decode()
    outcome_month = np.full(len(cid), -1, dtype=np.int64)
    if outcome_tables:
        outs = pa.concat_tables([t for _, t in outcome_tables])
        outs = pd.DataFrame(
            {
                "crime_id": outs.column("crime_id").to_pylist(),
                "month": outs.column("month").to_numpy(),
                "outcome": outs.column("outcome").to_pylist(),
                "source_file": np.repeat([lb for lb, _ in outcome_tables], [t.num_rows for _, t in outcome_tables]),
                "source_line": outs.column("source_line").to_numpy(),
            }
        ).sort_values(["crime_id", "month", "source_file", "source_line"], kind="stable")
        latest = outs.drop_duplicates("crime_id", keep="last")
        latest_ids = pa.array(latest["crime_id"].tolist(), cid.type)
        base = pc.replace_substring_regex(cid, r"#\d+$", "") if duplicates == "keep" else cid
        where = pc.index_in(base, value_set=latest_ids)
        hit = _mask(pc.is_valid(where))
        at = pc.fill_null(where, 0).to_numpy()[hit]
        outcome = pc.replace_with_mask(
            outcome, pa.array(hit), pa.array(latest["outcome"].to_numpy()[at].tolist(), outcome.type)
        )
        outcome_month[hit] = latest["month"].to_numpy()[at]
        unmatched = int((~_mask(pc.is_in(latest_ids, value_set=base))).sum())
        report.add(
            allf,
            "outcomes_joined",
            int(hit.sum()),
            "outcome and outcome_month from outcomes files",
            f"crimes with an outcome row ({len(outs):,} outcome rows, latest per Crime ID)",
        )
        if unmatched:
            report.add(
                allf,
                "outcomes_unmatched",
                unmatched,
                "not used",
                "Crime IDs in the outcomes files with no street row (crimes of months not read)",
            )
    else:
        report.add(
            allf,
            "outcomes_joined",
            0,
            "none",
            "no -outcomes.csv files: outcome is the street file's last outcome category, with no date",
        )

    # areas: the district of each LSOA, looked up once per distinct code
    if areas is not None:
        missing_cols = [c for c in ("area_code", "district_code") if c not in areas.columns]
        if missing_cols:
            raise ValueError(f"areas must have columns 'area_code' and 'district_code'; it lacks {missing_cols}")
        lookup = dict(zip(areas["area_code"], areas["district_code"], strict=True))
        per_word = [lookup.get(w) for w in area_words]
        district_codes = np.array([i if d is not None else -1 for i, d in enumerate(per_word)] + [-1])[area_codes]
        district = _dictionary(district_codes, [str(d) if d is not None else "" for d in per_word]).dictionary_decode()
        outside = has_area & (district_codes < 0)
        outside_codes = [area_words[i] for i in pd.unique(area_codes[outside])]
        report.add(
            allf,
            "outside_area",
            int(outside.sum()),
            "kept; district_code missing",
            f"rows whose LSOA is not one of the {len(lookup):,} LSOAs of the area "
            f"({len(outside_codes):,} such LSOAs, e.g. {describe_values(outside_codes, 3)})",
        )
    else:
        district = pa.nulls(len(cid), pa.string())

    report.add(allf, "rows_kept", len(cid), "kept", "rows in the crimes table")
    text = pa.large_string()  # how pandas keeps its str columns: the cached table converts without a copy
    return pa.table(
        {
            "crime_id": cid.cast(text),
            "month": pa.array(month, pa.int32()),
            "area_code": area.dictionary_decode().cast(text),
            "district_code": district.cast(text),
            "crime_type": _tidy(_one(table.column("crime_type")), CRIME_TYPES),
            "outcome": outcome.cast(text),
            "outcome_month": pa.array(outcome_month, pa.int32(), mask=outcome_month < 0),
            "longitude": table.column("longitude"),
            "latitude": table.column("latitude"),
            "location": _tidy(_one(table.column("location"))),
            "lsoa_name": _tidy(_one(table.column("lsoa_name"))),
            "context": table.column("context").cast(text),
            "force": _tidy(force),
            "source_file": _tidy(_dictionary(file_of, labels), sort=False),
            "source_line": table.column("source_line"),
        }
    )
