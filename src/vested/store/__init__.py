"""The store: the shared record of an agreement, in SQLite or PostgreSQL, every write a ledger entry.

    open_store(url, files=None) -> Store        (vested.store.store)
    verify_store(store, files) -> VerifyResult  (vested.store.verify)
    export_bundle(store, files, path)           (vested.store.bundle)
    verify_bundle(path) -> VerifyResult

An adapter: it converts database rows to the records of ``vested.store.records`` and the ledger
entries of ``vested.core.ledger``, and nothing of SQLAlchemy leaks past it. docs/record.md
describes the tables, the ledger's format and what verification proves.
"""

from vested.store.bundle import export_bundle, verify_bundle
from vested.store.records import (
    AgreementVersion,
    Amendment,
    BatchRecord,
    SignatureRecord,
    StatementRecord,
    StoreError,
    User,
)
from vested.store.store import Store, open_store
from vested.store.verify import Break, VerifyResult, verify_store

__all__ = ["AgreementVersion", "Amendment", "BatchRecord", "Break", "SignatureRecord", "StatementRecord", "Store", "StoreError",
           "User", "VerifyResult", "export_bundle", "open_store", "verify_bundle", "verify_store"]
