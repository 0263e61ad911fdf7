"""Render the first pages of the example area's Word draft as PNG for the README (needs LibreOffice and poppler).

Run after `victimneeds build`:  python docs/make_word_preview.py [build/example/example_needs_assessment.docx]
Writes docs/images/word_page_<n>.png.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    docx = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "example" / "example_needs_assessment.docx"
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not (soffice and pdftoppm):
        raise SystemExit("needs LibreOffice (soffice) and poppler (pdftoppm): apt-get install libreoffice-writer "
                         "poppler-utils")
    out = ROOT / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", tmp, str(docx)], check=True,
                       capture_output=True, timeout=300)
        pdf = Path(tmp) / docx.with_suffix(".pdf").name
        subprocess.run([pdftoppm, "-png", "-r", "70", "-f", "1", "-l", "2", str(pdf), str(out / "word_page")],
                       check=True)
    for page in sorted(out.glob("word_page-*.png")):
        page.rename(out / page.name.replace("word_page-", "word_page_").replace("_0", "_"))
    print("written:", ", ".join(p.name for p in sorted(out.glob("word_page_*.png"))))


if __name__ == "__main__":
    main()
