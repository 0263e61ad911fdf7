"""Read data.police.uk street-level crime (and outcomes) files into the canonical ``crimes`` table.

data.police.uk publishes one CSV per force and month: ``YYYY-MM/YYYY-MM-<force>-street.csv`` (one
row per crime or anti-social behaviour incident, located to a snap point and its LSOA) and, where the
force supplies them, ``YYYY-MM-<force>-outcomes.csv`` (one row per outcome recorded that month, for
crimes of that or earlier months). :func:`read_policeuk` reads any mix of folders, single files,
gzip copies and the bulk zip archive, checks every row and says what it found in a data-quality
report.

How it is fast:

* Files are read in a thread pool, one file per thread: gzip is inflated with ISA-L (``isal``) and
  the CSV parsed with ``pyarrow.csv`` straight into typed columns (coordinates as numbers, the
  repetitive text columns dictionary-encoded). Checks run on the dictionaries (a few hundred distinct
  values) rather than on every row. A file that fails any check of this fast path (a short row, a
  malformed month, an unknown crime type, a coordinate that is not a number or lies outside the UK,
  an odd LSOA code, text that is not UTF-8 ...) is read again as text by the careful path, which
  finds, counts and reports each bad row with its line. Both paths give the same table for a clean
  file (tested).
* Joining the files (duplicate Crime IDs, the months in the series, LSOA vintage, outcomes, the
  area lookup) works on Arrow arrays and dictionary codes; pandas is built once at the end.
* The finished table is cached in Arrow IPC format as one record batch (memory-mapped on the next
  read, so nothing is parsed and text columns are not even copied) with the report beside it, in
  :func:`default_cache_dir`. The entry is written in a background thread, so a cold read returns
  its table without waiting for the write (:func:`wait_for_cache` waits for it).
  The cache key is the xxHash-128 of every file's bytes (for a member of a zip archive: its name,
  CRC-32 and size as the archive records them), the file names, the arguments, the package version and
  a hash of the reader's source code: a file edited in place, or a reader changed, gets a new key and
  the files are read again. A file's hash is remembered by path, size, modification time and inode, so
  unchanged files are not hashed again. The table file and the report carry xxHash-128 checksums that
  are verified on every read: a damaged entry is not used, the files are read again and the report
  says so (check ``cache_damaged``). The cache keeps the :data:`CACHE_ENTRIES` most recently used tables.
* A month is read from one file, whatever the files are named: a second copy with the same text is
  skipped and counted (``duplicate_file``), a different file holding the same month is an error.

Why Arrow IPC rather than Parquet for the cache: on the 41 Leicestershire files, decoding the finished
table from Parquet took 18-20 ms before any conversion to pandas, against 1-4 ms to map it from
Arrow IPC, and the warm read must stay within 1/20 of a plain ``pandas.read_csv`` loop
(``bench/ingest.py``).
"""

from victimneeds.io.policeuk.cache import CACHE_ENTRIES, default_cache_dir, wait_for_cache
from victimneeds.io.policeuk.parse import MAX_FILE_BYTES, OUTCOME_COLUMNS, STREET_COLUMNS, UK_BOUNDS
from victimneeds.io.policeuk.reader import read_policeuk
from victimneeds.io.policeuk.table import PoliceUKData
from victimneeds.io.policeuk.vintage import lsoa_vintage

__all__ = [
    "STREET_COLUMNS",
    "OUTCOME_COLUMNS",
    "UK_BOUNDS",
    "PoliceUKData",
    "read_policeuk",
    "lsoa_vintage",
    "default_cache_dir",
    "CACHE_ENTRIES",
    "wait_for_cache",
    "MAX_FILE_BYTES",
]
