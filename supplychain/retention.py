"""How long the uploads of failed imports are kept: long enough to look into, then deleted.

An import's upload is stored under a random name in `uploads/imports/`, and the job that ran
it names the file in its parameters. The file of a succeeded import is kept as the evidence of
what was imported. The file of a failed or refused import, or of one whose worker died, only
serves to investigate the failure; it is deleted `IMPORT_FAILED_RETENTION_DAYS` after it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, not_, select

from supplychain.config import Settings
from supplychain.db import unit_of_work
from supplychain.models import JobRecord, JobStatus, utcnow

log = logging.getLogger(__name__)
IMPORT_UPLOADS = "imports"


def import_uploads_folder(settings: Settings) -> Path:
    """Where the console stores uploaded import files."""
    return settings.uploads_path / IMPORT_UPLOADS


def purge_failed_import_uploads(
    database_url: str, folder: Path, retention_days: int, *, now: datetime | None = None
) -> list[Path]:
    """Delete the uploads of imports that failed more than `retention_days` ago.

    A file imported again (e.g. with another encoding) is kept while any later import of it is
    pending, succeeded, or failed within the retention. Only files directly inside `folder` are
    ever deleted, whatever a job's parameters say, so a file imported from the command line is
    never touched. Returns the deleted files.
    """
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    folder = folder.resolve()
    imports = JobRecord.kind.like("import.%")
    expired = and_(JobRecord.status == JobStatus.FAILED, JobRecord.finished_at < cutoff)
    with unit_of_work(database_url) as session:
        failed = session.execute(select(JobRecord.id, JobRecord.params).where(imports, expired))
        candidates = {row.id: _upload_path(row.params, folder) for row in failed}
        candidates = {job_id: path for job_id, path in candidates.items() if path is not None}
        if not candidates:
            return []
        # A file is only ever imported again after its first import, so later jobs suffice.
        later = select(JobRecord.params).where(
            imports, JobRecord.id > min(candidates), not_(expired)
        )
        in_use = {_upload_path(params, folder) for params in session.scalars(later)}
    deleted = []
    for path in sorted(set(candidates.values()) - in_use):
        try:
            path.unlink()
        except FileNotFoundError:  # deleted before, or by another worker's purge just now
            continue
        deleted.append(path)
    if deleted:
        log.info("deleted %d uploads of imports that failed before %s", len(deleted), cutoff)
    return deleted


def _upload_path(params: dict | None, folder: Path) -> Path | None:
    """The job's upload when it lies in the import uploads folder, else None."""
    named = (params or {}).get("path")
    if not named:
        return None
    path = Path(named).resolve()
    return path if path.parent == folder else None


def purge_for(settings: Settings) -> list[Path]:
    """The purge with the configured folder and retention."""
    return purge_failed_import_uploads(
        settings.database_url,
        import_uploads_folder(settings),
        settings.import_failed_retention_days,
    )
