"""A batch appended to a cluster's data folder (storemon/cluster.py) while it serves: what
`POST /polls|/hours|/timezones|/special_hours|/groups`, `storemon append` and the drop folder do
when the service computes on a cluster.

The batch is copied into the data folder (DATA/incoming/, where every worker can read it), parsed by
one task with the load's SQL into its buckets, and committed in one step with the rest of the
cluster's writes (cluster.writer_lock, the manifest). As on one machine: an Idempotency-Key
names one batch (the same key and content again: nothing changes; another content: refused), the
same polls again change nothing, nor does a repeat of the latest batch of hours, zones, special
hours or groups; a batch with rows, none of them usable, is refused unless allowed. Every
COMPACT_AFTER batches, the batch that reaches it compacts the folder (storemon/cluster_compact.py)
after committing.

What differs, said in the answer's terms: `duplicates` counts the polls repeated within the
batch (a poll already in an earlier batch is counted in `kept`; the report reads it once), and
no alert events are made (`events` is 0: alerts need the service's own database)."""

from __future__ import annotations

import logging
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from storemon import cluster, cluster_compact
from storemon.append import KINDS, BatchKind, file_hash
from storemon.backends import Batch
from storemon.errors import KeyReused, StoremonError
from storemon.instants import iso_us
from storemon.rejections import refuse_if_nothing_usable
from storemon.results import BatchAnswer, RejectCount, RejectReason

log = logging.getLogger("storemon.cluster")


def append_batch(client, data: Path, batch: Batch) -> BatchAnswer:
    """Append `batch` to the data folder, committed before this returns."""
    data = Path(data)
    kind, shown = batch.kind, batch.shown
    content_hash = file_hash(batch.path)
    with cluster.writer_lock(data):
        manifest = cluster.read_manifest(data)
        earlier = _earlier(manifest, kind, content_hash, batch.idempotency_key)
        if earlier is not None:
            return _answer(manifest, earlier, repeated=True)
        cluster.sweep(data, manifest)  # what died before committing
        manifest = manifest or cluster.new_manifest()
        seq = cluster.next_seq(manifest)
        batch_id = secrets.token_urlsafe(9)
        incoming = data / cluster.INCOMING / f"{cluster.batch_name(seq, batch_id)}.csv"
        incoming.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(batch.path, incoming)
        try:
            future = client.submit(
                cluster.ingest_file,
                str(incoming.resolve()),
                str(data.resolve()),
                kind,
                manifest["buckets"],
                seq,
                batch_id,
                datetime.now(UTC).isoformat(),
                None,
                shown,
                batch.line_offset,
                pure=False,
            )
            (done,) = cluster.gather(client, [future], [shown])
        finally:
            incoming.unlink(missing_ok=True)
        if not batch.allow_empty:  # (its files, never committed, go with the next writer's sweep)
            refuse_if_nothing_usable(
                KINDS[kind].source.label,
                shown,
                done["rows"],
                [RejectCount(**why) for why in done["reasons"]],
                what="nothing was appended",
            )
        done |= {"content_hash": content_hash, "idempotency_key": batch.idempotency_key}
        manifest["batches"].append(done)
        cluster.write_manifest(data, manifest)  # committed: what follows changes no data
        answer = _answer(manifest, done, repeated=False)
        if cluster_compact.due(manifest):
            try:
                cluster_compact.compact(client, data, manifest)
            except StoremonError:  # the batch is committed and answered; the next one tries again
                log.exception("compacting %s failed; the next batch tries again", data)
        return answer


def _earlier(
    manifest: dict | None, kind: str, content_hash: str, idempotency_key: str | None
) -> dict | None:
    """The batch this one repeats, if any (the rule of storemon/append.py, on the manifest)."""
    batches = (manifest or {}).get("batches", [])
    if idempotency_key is not None:
        found = next((b for b in batches if b.get("idempotency_key") == idempotency_key), None)
        if found is None:
            return None
        if (found["kind"], found.get("content_hash")) != (kind, content_hash):
            other = "other content" if found["kind"] == kind else f"a batch of {found['kind']}"
            raise KeyReused(
                f"this Idempotency-Key was sent before with {other} (batch "
                f"{found['batch_id']}); a key names one batch: send a new batch with a new key "
                "(nothing was appended)"
            )
        return found
    if kind == "polls":  # a union: the same polls again never change anything
        return next(
            (b for b in batches if b["kind"] == "polls" and b.get("content_hash") == content_hash),
            None,
        )
    latest = next((b for b in reversed(batches) if b["kind"] == kind), None)
    return latest if latest and latest.get("content_hash") == content_hash else None


def _answer(manifest: dict | None, batch: dict, *, repeated: bool) -> BatchAnswer:
    polls = cluster.poll_range(manifest)
    repeats = batch.get("repeats", 0)
    return BatchAnswer(
        batch_id=batch["batch_id"],
        kind=cast(BatchKind, batch["kind"]),
        rows_read=batch["rows"],
        kept=batch["kept"] - repeats,
        duplicates=repeats,
        rejected=batch["rejected"],
        rejected_by_reason=[
            RejectReason(why["reason"], why["rows"], why["line"], why["detail"], why["raw"])
            for why in batch["reasons"]
        ],
        latest_poll=iso_us(polls[1]) if polls else None,
        repeated=repeated,
    )
