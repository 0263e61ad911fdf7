"""Render pages of the example area's Word draft as PNG for the README (needs LibreOffice and poppler).

Run after `victimneeds build`:  python docs/make_word_preview.py [build/example/example_needs_assessment.docx]

Writes docs/images/word_page_1.png (the title page), word_page_2.png (the first page of the executive summary)
and word_page_3.png (the first page with a numbered table), found by their text in the PDF LibreOffice makes.
On Debian or Ubuntu: apt-get install --no-install-recommends libreoffice-writer-nogui poppler-utils (measured:
38 s, 86 MB of packages, 264 MB installed; converting the example draft to PDF takes about 10 s).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Pages shown, each found as the first page whose text holds this line (the title page is page 1).
WANTED = ("Executive summary", "Table 1:")


def _pages(pdf: Path, pdftotext: str) -> list[int]:
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages = text.split("\f")
    found = [1]
    for wanted in WANTED:
        page = next((i + 1 for i, body in enumerate(pages) if i + 1 > 2 and wanted in body), None)
        if page is not None and page not in found:
            found.append(page)
    return found


def main() -> None:
    docx = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "example" / "example_needs_assessment.docx"
    tools = {name: shutil.which(name) for name in ("soffice", "pdftoppm", "pdftotext")}
    if not all(tools.values()):
        raise SystemExit("needs LibreOffice (soffice) and poppler (pdftoppm, pdftotext): apt-get install "
                         "--no-install-recommends libreoffice-writer-nogui poppler-utils")
    out = ROOT / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("word_page_*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([tools["soffice"], "--headless", "--convert-to", "pdf", "--outdir", tmp, str(docx)],
                       check=True, capture_output=True, timeout=300)
        pdf = Path(tmp) / docx.with_suffix(".pdf").name
        for n, page in enumerate(_pages(pdf, tools["pdftotext"]), start=1):
            stem = Path(tmp) / f"page{n}"
            subprocess.run([tools["pdftoppm"], "-png", "-r", "70", "-f", str(page), "-l", str(page), "-singlefile",
                            str(pdf), str(stem)], check=True)
            shutil.move(f"{stem}.png", out / f"word_page_{n}.png")
    print("written:", ", ".join(p.name for p in sorted(out.glob("word_page_*.png"))))


if __name__ == "__main__":
    main()
