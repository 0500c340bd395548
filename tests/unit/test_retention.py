"""Uploads of failed imports are deleted after the retention; everything else is kept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import update

from supplychain import jobs
from supplychain.cli import main
from supplychain.config import load_settings
from supplychain.db import unit_of_work
from supplychain.models import ImportBatch, ImportStatus, JobRecord, JobStatus, utcnow
from supplychain.retention import import_uploads_folder, purge_failed_import_uploads
from tests.support import builders

GOOD_CSV = "supplier_code,name,country,tier\nR-1,Good Supplier,CN,1\n"
BAD_CSV = "supplier_code,name,country,tier\nR-1,Good Supplier,CN,1\nR-2,Bad Supplier,CN,eleven\n"
NO_CODE_CSV = "name,country\nNo Code Supplier,CN\n"


def _import(
    url: str, brand_id: int, path: Path, text: str | None, days_ago: int, skip: bool = False
) -> JobRecord:
    """Import `text` stored at `path` (None: import the stored file again), aged `days_ago`."""
    if text is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    job = jobs.submit(
        url,
        None,
        "supplychain.importer:import_file_job",
        kind="import.suppliers",
        organization_id=brand_id,
        params={"brand_id": brand_id, "kind": "suppliers", "path": str(path), "skip_invalid": skip},
    )
    with unit_of_work(url) as s:
        s.execute(
            update(JobRecord)
            .where(JobRecord.id == job.id)
            .values(finished_at=utcnow() - timedelta(days=days_ago))
        )
    return job


def test_purge_deletes_only_old_uploads_of_failed_imports(sqlite_url, tmp_path):
    with unit_of_work(sqlite_url) as s:
        brand_id = builders.brand(s, "retention-brand").id
    folder = tmp_path / "uploads" / "imports"
    old_failed = folder / "old-failed.csv"
    old_refused = folder / "old-refused.csv"
    recent_failed = folder / "recent-failed.csv"
    old_succeeded = folder / "old-succeeded.csv"
    outside = tmp_path / "cli-import" / "old-failed.csv"
    imported_again = folder / "imported-again.csv"
    assert _import(sqlite_url, brand_id, old_failed, BAD_CSV, 20).status == JobStatus.FAILED
    assert _import(sqlite_url, brand_id, old_refused, NO_CODE_CSV, 20).status == JobStatus.FAILED
    assert _import(sqlite_url, brand_id, recent_failed, BAD_CSV, 3).status == JobStatus.FAILED
    assert _import(sqlite_url, brand_id, old_succeeded, GOOD_CSV, 20).status == JobStatus.FINISHED
    assert _import(sqlite_url, brand_id, outside, BAD_CSV, 20).status == JobStatus.FAILED
    assert _import(sqlite_url, brand_id, imported_again, BAD_CSV, 20).status == JobStatus.FAILED
    again = _import(sqlite_url, brand_id, imported_again, None, 19, skip=True)
    assert again.status == JobStatus.FINISHED

    deleted = purge_failed_import_uploads(sqlite_url, folder, 14)

    assert sorted(deleted) == sorted([old_failed.resolve(), old_refused.resolve()])
    assert not old_failed.exists() and not old_refused.exists()
    assert recent_failed.exists() and old_succeeded.exists() and outside.exists()
    assert imported_again.exists()
    assert purge_failed_import_uploads(sqlite_url, folder, 14) == []
    # The batches and their reports stay listed; only the files go.
    with unit_of_work(sqlite_url) as s:
        statuses = sorted(b.status for b in s.query(ImportBatch))
    assert statuses == sorted(
        [ImportStatus.FAILED] * 4 + [ImportStatus.REFUSED] + [ImportStatus.SUCCEEDED] * 2
    )


def test_purge_command_uses_the_configured_retention(sqlite_url, tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(instance))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("FACTOR_STORE", raising=False)  # the CLI passes the store explicitly
    with unit_of_work(sqlite_url) as s:
        brand_id = builders.brand(s, "retention-cli-brand").id
    folder = import_uploads_folder(load_settings())
    five_days = folder / "five-days.csv"
    _import(sqlite_url, brand_id, five_days, BAD_CSV, 5)

    kept = CliRunner().invoke(main, ["import", "purge"])
    assert kept.exit_code == 0, kept.output
    assert "0 uploads of failed imports deleted (kept for 14 days)" in kept.output
    assert five_days.exists()

    monkeypatch.setenv("IMPORT_FAILED_RETENTION_DAYS", "4")
    purged = CliRunner().invoke(main, ["import", "purge"])
    assert purged.exit_code == 0, purged.output
    assert "1 uploads of failed imports deleted (kept for 4 days)" in purged.output
    assert not five_days.exists()
