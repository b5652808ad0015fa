"""The store: the shared record of an agreement, in SQLite or PostgreSQL, every write a ledger entry.

    open_store(url, files=None) -> Store        (vested.storage.record.store)
    verify_store(store, files) -> VerifyResult  (vested.storage.record.verify)
    export_bundle(store, files, path)           (vested.storage.record.bundle)
    verify_bundle(path) -> VerifyResult

An adapter: it converts database rows to the records of ``vested.storage.record.records`` and the ledger
entries of ``vested.core.ledger``, and nothing of SQLAlchemy leaks past it. docs/record.md
describes the tables, the ledger's format and what verification proves.
"""

from vested.storage.record.bundle import export_bundle, verify_bundle
from vested.storage.record.records import (
    AgreementVersion,
    Amendment,
    BatchRecord,
    SignatureRecord,
    StatementRecord,
    StoreError,
    User,
)
from vested.storage.record.store import Store, open_store
from vested.storage.record.verify import Break, VerifyResult, verify_store

__all__ = ["AgreementVersion", "Amendment", "BatchRecord", "Break", "SignatureRecord", "StatementRecord", "Store", "StoreError",
           "User", "VerifyResult", "export_bundle", "open_store", "verify_bundle", "verify_store"]
