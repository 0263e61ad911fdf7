"""Every force at once: the national police.uk archive out of core.

A force's files fit in memory (:func:`victimneeds.io.read_policeuk`); the national archive (43 forces, about
500,000 rows a month) does not. Here it is read file by file into a Parquet dataset partitioned by force and
year (:func:`ingest`, with the reader's own row checks and data-quality report), and counted with DuckDB over
that dataset (:func:`aggregates`): force x month x crime type, district x month x crime type and LSOA x year x
crime type. :func:`aggregate_crimes` gives the same tables from one force's in-memory ``crimes`` table.
See ``docs/scaling.md`` for what runs where.
"""

from victimneeds.national.aggregate import LEVELS, aggregate_crimes, aggregate_levels, aggregates
from victimneeds.national.ingest import DATASET_SCHEMA, MANIFEST, IngestResult, ingest, quality_report

__all__ = [
    "ingest",
    "IngestResult",
    "quality_report",
    "aggregates",
    "aggregate_levels",
    "aggregate_crimes",
    "LEVELS",
    "MANIFEST",
    "DATASET_SCHEMA",
]
