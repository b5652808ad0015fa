"""Ingest measurement data: check every row of a file or SQL result against its dataset, store it as a batch.

The pipeline of one ingest (``ingest_file`` / ``ingest_sql``, in :mod:`~vested.ingest.pipeline`)::

    find the dataset (datasets) → hash the content, refuse what was already ingested (pipeline)
    → read the source into DuckDB, numbered rows: text as text, a Parquet column typed as declared as it is (read, native)
    → check the structure: malformed lines, unknown or missing columns (read, checks)
    → check every value in SQL, vectorised: types, required, allowed, range, UTC offsets,
      duplicate keys in the file and against earlier batches (checks), put into words (explain)
    → nothing written on any error, or with a quarantine file: the bad rows go there (write)
    → write ``batches/<dataset>/<batch_id>.parquet`` (typed) and then its manifest, atomically, and only
      then move the quarantine file into place (write).

The modules, in the order of the pipeline:

* ``report``: :class:`IngestProblem` and :class:`IngestReport`, the values an ingest returns.
* ``datasets``: which dataset a source goes into, and the built-in :data:`REPORTED` dataset.
* ``run``: the state of one ingest (the source, the DuckDB connection, the columns found).
* ``read``: CSV, Parquet, JSON Lines and SQL sources into the table ``raw`` as text; line numbers.
* ``sql``: quoting, and the SQL that types a column's raw text (to :data:`vested.storage.folder.STORAGE_TYPES`).
* ``native``: the checks of a typed Parquet column on its typed values, and which columns are read so.
* ``checks``: the columns against the dataset's, then every value in SQL, into the table ``problems``.
* ``explain``: the message and hint of each value problem.
* ``write``: the quarantine file and the atomic batch write.
* ``pipeline``: the entry points and the steps above in order.

Text values are parsed by *this* package's rules, which decide what a valid integer, timestamp or
boolean is; a typed Parquet column is checked on its typed values, and a value that may break a rule
is checked as its text (``native``), so a CSV, a JSON number and a Parquet double meet the same standard. Problems are
values (:class:`IngestProblem`) with the file, the 1-based data row, the line (CSV, JSON Lines), the
column, a message and a hint, all reported at once (up to :data:`PROBLEM_LIMIT`).
"""

from vested.ingest.datasets import REPORTED, dataset_for
from vested.ingest.pipeline import batch_id_for, ingest_file, ingest_sql
from vested.ingest.read import FORMATS
from vested.ingest.report import PROBLEM_LIMIT, IngestProblem, IngestReport
from vested.ingest.sql import FALSE_WORDS, STORAGE_TYPES, TRUE_WORDS

__all__ = [
    "FALSE_WORDS",
    "FORMATS",
    "PROBLEM_LIMIT",
    "REPORTED",
    "STORAGE_TYPES",
    "TRUE_WORDS",
    "IngestProblem",
    "IngestReport",
    "batch_id_for",
    "dataset_for",
    "ingest_file",
    "ingest_sql",
]
