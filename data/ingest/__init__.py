"""Getting events and the directory into the data folder, safely: the writer side of Telemetry.

- `readers.py`, `jsonl.py`, `csv_blocks.py`, `otlp.py`: event files (JSONL, CSV, Parquet, OTLP/JSON) and
  OTLP requests read a batch of columns at a time (OTLP: as records); `checks.py`, `validate.py`: every
  record checked against the contract, as columns (`accept_columns`), the rest one by one (`validate`).
- `writer.py`: `ingest_files`, `ingest_otlp`: valid records written into their UTC dates' partitions,
  the others quarantined (`quarantine.py`; `late.py`: those the store refuses under the lock, as the input had them).
- `storage.py`: one writer at a time (`locked`), files written aside and renamed in, partition
  folders swapped whole, a crashed writer's leftovers repaired; `compaction.py`: `compact`.
- `directory.py`: `import_directory`; `purge.py`: removing events (a person's, a date's).
- `store.py`: the last step, where rows go: `ParquetStore` (the data folder, below) or ClickHouse's
  (data/clickhouse/writes.py); everything before it is the same for both.
- `commit.py`: `writing`, the one way to write: the files, then the rollups of the days touched, then
  the data version, all under the lock; `together.py`: the receiver's requests written together.
"""

from data.ingest.compaction import Compaction, compact
from data.ingest.directory import DirectoryImportError, import_directory
from data.ingest.readers import EXTENSIONS, FORMATS, detect_format
from data.ingest.storage import IngestBusy, IngestError, locked
from data.ingest.writer import DEFAULT_COMPACT_AFTER_FILES, IngestSummary, ingest_files, ingest_otlp

__all__ = [
    "DEFAULT_COMPACT_AFTER_FILES",
    "EXTENSIONS",
    "FORMATS",
    "Compaction",
    "DirectoryImportError",
    "IngestBusy",
    "IngestError",
    "IngestSummary",
    "compact",
    "detect_format",
    "import_directory",
    "ingest_files",
    "ingest_otlp",
    "locked",
]
