"""``victimneeds init NAME``: start an area of one's own.

For a police force area it writes, into a folder (default ``areas/<name>/``):

* ``<name>.toml``: the area configuration, with the force's districts and small areas chosen from the ONS
  LAD-CSP-PFA lookup, the public inputs in the shared open-data folder, and an ``[extracts.<table>]`` section
  for each of the area's own tables, commented out until its file is filled;
* ``templates/<table>.csv`` and ``templates/<table>.xlsx``: blank templates with the exact headers the tool
  reads (the Excel one with drop-down lists of the allowed values and a sheet describing every column);
* ``data_request.docx``: the request the analyst sends to the force and to providers: every field, its
  definition, its allowed values, why it is needed and which section uses it, and how to send the file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from victimneeds.datamodel import SCHEMAS
from victimneeds.io.extract.reader import EXTRACT_TABLES, ID_COLUMNS
from victimneeds.io.fields import FIELDS, WHY
from victimneeds.sections import SECTIONS, TABLE_WORDS

__all__ = ["InitResult", "init_area", "find_force"]

_LOOKUP = "geography/lookups/LAD17_CSP17_PFA17_EW_lookup.csv"
_INPUTS = {
    "lsoa_lookup": "geography/lookups/OA11_LSOA11_MSOA11_LAD17_GB_lookup_with_area_classifications.csv.gz",
    "pfa_lookup": _LOOKUP,
    "population_lsoa": "population/lsoa_population_mid2019_UK_small_areas.csv",
    "population_lad": "population/ukpopestimatesmid2020on2021geography.xls",
    "imd": "deprivation/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
    "imd_scores": "deprivation/mysociety_UK_IMD_E.csv.gz",
}
_HOLDER = {"crimes": "the force (performance or analysis team)", "referrals": "each victim-service provider",
           "services": "the OPCC commissioning team", "survey": "the force or the provider running the survey"}


@dataclass
class InitResult:
    """What ``init`` wrote."""

    force: str
    pfa_code: str
    districts: list[str]
    config: Path
    templates: list[Path] = field(default_factory=list)
    request: Path | None = None

    def __str__(self) -> str:
        return "\n".join([
            f"Area configuration for {self.force} ({self.pfa_code}, {len(self.districts)} districts): {self.config}",
            f"Templates: {len(self.templates)} files in {self.templates[0].parent if self.templates else ''}",
            f"Data request for the force and providers: {self.request}",
            "Next: send the data request; put the files you receive beside the configuration; uncomment their",
            f"[extracts] sections; then run: victimneeds check --area {self.config}",
        ])


def slug(name: str) -> str:
    """``"Avon and Somerset"`` -> ``"avon-and-somerset"`` (the data.police.uk spelling)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def find_force(name: str, data_dir: Path) -> tuple[str, str, list[tuple[str, str]]]:
    """(force name, PFA code, [(district code, name)]) for a force named loosely (``avon-and-somerset``)."""
    from victimneeds.io.ons import read_lookup

    lookup, _ = read_lookup(data_dir / _LOOKUP)
    forces = lookup[["pfa_code", "pfa_name"]].drop_duplicates()
    wanted = slug(name)
    hit = forces[(forces["pfa_name"].map(slug) == wanted) | (forces["pfa_code"].str.upper() == name.upper())]
    if hit.empty:
        close = [n for n in forces["pfa_name"] if wanted.split("-")[0] in slug(n)]
        raise ValueError(
            f"no police force area called {name!r} in {data_dir / _LOOKUP}"
            + (f"; did you mean {close}?" if close else f"; the forces are {sorted(forces['pfa_name'])}.")
        )
    code, force = hit.iloc[0]["pfa_code"], hit.iloc[0]["pfa_name"]
    lads = lookup.loc[lookup["pfa_code"] == code, ["lad_code", "lad_name"]].drop_duplicates().sort_values("lad_code")
    return force, code, list(lads.itertuples(index=False, name=None))


def _toml(force: str, code: str, districts: list[tuple[str, str]], data_dir: str, has_policeuk: bool) -> str:
    name = slug(force)
    lines = [
        f"# Victims' needs assessment area: {force}. Written by victimneeds init; edit freely.",
        "# Public inputs come from the open-data folder (data_dir); the area's own extracts from [extracts].",
        f"# Districts ({len(districts)}): " + ", ".join(f"{n} ({c})" for c, n in districts),
        "",
        "[area]",
        f'name = "{force}"',
        f'force = "{name}"                 # the data.police.uk force name, as in YYYY-MM-{name}-street.csv',
        f'pfa_code = "{code}"             # the police force area in the ONS LAD-CSP-PFA lookup',
        'district_level = "LAD"',
        "",
        "[inputs]",
        f'data_dir = "${{VICTIMNEEDS_DATA:-{data_dir}}}"',
        ("" if has_policeuk else "# ") + f'policeuk = "policeuk/{name}"   # data.police.uk street files '
        "(victimneeds fetch policeuk)",
        'boundaries = "geography/lsoa2011_by_lad/{district}.json"   # one file per district of the force',
        *(f'{k} = "{v}"' for k, v in _INPUTS.items()),
        "",
        "[parameters]",
        '# months = ["2021-04", "2024-03"]   # first and last month to use, as "YYYY-MM" text',
        "",
        "# The area's own extracts. Put each file in this folder, uncomment its section and map your column",
        "# names to the tool's (the templates use the tool's names, so a filled template needs no mapping).",
        "# The salt that pseudonymises crime and case references is read from an environment variable, never",
        "# from this file: make one with",
        '#   python -c "import secrets; print(secrets.token_urlsafe(32))"',
        "# and set it before each run (export VICTIMNEEDS_SALT=...). Then: victimneeds check --area <this file>.",
        "# [extracts]",
        '# salt_env = "VICTIMNEEDS_SALT"',
    ]
    examples = {
        "crimes": ['# dates = "day-first"             # how 02/01/2021 is read: "iso", "day-first" or "month-first"',
                   "# [extracts.crimes.columns]      # your column = the tool's column",
                   '# "Crime Reference" = "crime_id"',
                   "# [extracts.crimes.values.victim_sex]   # your value = the allowed value",
                   '# "F" = "Female"'],
        "referrals": ['# sheet = "Sheet1"                # Excel only', "# header_row = 1",
                      "# [extracts.referrals.ids.crime_id]   # if the provider writes crime references differently",
                      "# pattern = '(?P<number>\\d+)/(?P<year>\\d{2})'", '# format = "XX/{number}/{year}"'],
        "services": [],
        "survey": ['# dates = "iso"'],
    }
    for table in EXTRACT_TABLES:
        lines += ["", f"# [extracts.{table}]   # {TABLE_WORDS[table]}", f'# file = "{table}.csv"', *examples[table]]
    return "\n".join(lines) + "\n"


def _write_templates(folder: Path) -> list[Path]:
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in EXTRACT_TABLES:
        columns = list(SCHEMAS[table].columns)
        csv = folder / f"{table}.csv"
        csv.write_text(",".join(columns) + "\n", encoding="utf-8")
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = table
        sheet.append(columns)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        about = book.create_sheet("columns")
        about.append(["column", "type", "meaning", "allowed values", "used by", "required"])
        for cell in about[1]:
            cell.font = Font(bold=True)
        lists = book.create_sheet("allowed values")
        col_no = 0
        for i, name in enumerate(columns, start=1):
            spec = SCHEMAS[table].columns[name]
            f = FIELDS[table][name]
            about.append([name, f.type, f.meaning, f.allowed, f.used_by, "no" if spec.nullable else "yes"])
            letter = openpyxl.utils.get_column_letter(i)
            sheet.column_dimensions[letter].width = max(12, len(name) + 2)
            dtype = spec.dtype.type
            values = [str(c) for c in dtype.categories] if hasattr(dtype, "categories") else (
                ["Yes", "No"] if str(dtype) == "boolean" else None)
            if values:
                col_no += 1
                list_letter = openpyxl.utils.get_column_letter(col_no)
                lists.cell(row=1, column=col_no, value=name).font = Font(bold=True)
                for r, v in enumerate(values, start=2):
                    lists.cell(row=r, column=col_no, value=v)
                rule = DataValidation(type="list", formula1=f"='allowed values'!${list_letter}$2:${list_letter}$"
                                      f"{len(values) + 1}", allow_blank=True)
                rule.add(f"{letter}2:{letter}100000")
                sheet.add_data_validation(rule)
        for letter, width in zip("ABCDEF", (26, 22, 70, 50, 40, 9), strict=True):
            about.column_dimensions[letter].width = width
        xlsx = folder / f"{table}.xlsx"
        book.save(xlsx)
        written += [csv, xlsx]
    return written


def _write_request(path: Path, force: str) -> Path:
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.add_heading(f"Data request: victims' needs assessment, {force}", level=0)
    doc.add_paragraph(
        "The Office of the Police and Crime Commissioner is assessing the needs of victims of crime in the area, "
        "as the Victims and Prisoners Act 2024 and the Ministry of Justice victims grant require. This request "
        "lists the data the assessment reads, what each field means, the values it may take, and why it is "
        "needed. A field you do not hold can be left out: the assessment then says which analysis it could not "
        "do, rather than guessing.")
    doc.add_heading("How to send the data", level=1)
    for text in (
        "One file per table, as CSV (UTF-8) or Excel (.xlsx). The templates sent with this request have the "
        "exact column headers; your own column names and codes are also fine if you say which is which.",
        "Dates as YYYY-MM-DD where possible. If your system writes 02/01/2021, say whether that is 2 January "
        "(day first) or 1 February (month first): dates are never guessed.",
        "Do not include names, addresses, postcodes, dates of birth, phone numbers, e-mail addresses, NHS or "
        "PNC numbers, or free-text notes. Crime and case references are needed to link records; they are "
        "replaced by keyed hashes when read and never published.",
        "Send files by the secure route agreed with the OPCC under the data-sharing agreement, never by "
        "ordinary e-mail.",
    ):
        doc.add_paragraph(text, style="List Bullet")
    uses = {s.notebook: s.title for s in SECTIONS}
    for table in EXTRACT_TABLES:
        doc.add_heading(f"{table}: {TABLE_WORDS[table]}", level=1)
        needed_by = [uses[s.notebook] for s in SECTIONS if table in s.needs]
        doc.add_paragraph(f"Held by: {_HOLDER[table]}. One row per "
                          + {"crimes": "recorded crime", "referrals": "referral into a victim service",
                             "services": "commissioned service", "survey": "survey response"}[table]
                          + f". Sections that need it: {', '.join(needed_by)}.")
        grid = doc.add_table(rows=1, cols=5)
        grid.style = "Table Grid"
        for cell, text in zip(grid.rows[0].cells, ("Field", "Definition", "Allowed values", "Why it is needed",
                                                   "Required"), strict=True):
            cell.text = text
            for run in cell.paragraphs[0].runs:
                run.font.bold = True
        for name, spec in SCHEMAS[table].columns.items():
            f = FIELDS[table][name]
            why = "; ".join(WHY.get(u.split(" (")[0].strip(), u.strip()) for u in f.used_by.split(","))
            if name in ID_COLUMNS.get(table, ()):
                why += " (replaced by a keyed hash when read)"
            row = grid.add_row().cells
            for cell, text in zip(row, (name, f.meaning, f.allowed, why, "no" if spec.nullable else "yes"),
                                  strict=True):
                cell.text = text
                for run in cell.paragraphs[0].runs:
                    run.font.size = Pt(8)
    doc.save(path)
    return path


def init_area(
    name: str, dest: str | os.PathLike | None = None, data_dir: str | os.PathLike | None = None
) -> InitResult:
    """Write an area configuration, templates and a data request for the force ``name``; see the module docstring.

    Parameters
    ----------
    name : the force, as data.police.uk or ONS spell it (``avon-and-somerset``, ``Avon and Somerset``) or its
        PFA code (``E23000036``).
    dest : the folder to write into (default ``areas/<force>/``); existing files are not overwritten.
    data_dir : the open-data folder (default ``$VICTIMNEEDS_DATA``, else ``../shared/data``).
    """
    data = Path(data_dir or os.environ.get("VICTIMNEEDS_DATA") or Path("..") / "shared" / "data").resolve()
    if not (data / _LOOKUP).is_file():
        raise FileNotFoundError(
            f"the open-data folder {data} has no {_LOOKUP}; pass --data-dir or set VICTIMNEEDS_DATA to the folder "
            "holding the ONS lookups, boundaries, population and IMD files (see the README)."
        )
    force, code, districts = find_force(name, data)
    out = Path(dest) if dest is not None else Path("areas") / slug(force)
    out.mkdir(parents=True, exist_ok=True)
    config = out / f"{slug(force)}.toml"
    if config.exists():
        raise FileExistsError(f"{config} exists; init does not overwrite it (choose another --dest).")
    missing = [c for c, _ in districts if not (data / "geography" / "lsoa2011_by_lad" / f"{c}.json").is_file()]
    if missing:
        raise FileNotFoundError(f"the open-data folder has no small-area boundaries for {missing}: fetch "
                                f"geography/lsoa2011_by_lad/<code>.json for each district (see the README).")
    rel = os.path.relpath(data, out.resolve())
    has_policeuk = (data / "policeuk" / slug(force)).is_dir()
    config.write_text(_toml(force, code, districts, Path(rel).as_posix(), has_policeuk), encoding="utf-8")
    templates = _write_templates(out / "templates")
    request = _write_request(out / "data_request.docx", force)
    return InitResult(force, code, [c for c, _ in districts], config, templates, request)
