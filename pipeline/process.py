"""Queue processing: raw page → extraction → enrichment → story cluster → index → alerts.

Pages were stored in the durable queue before this runs, so a crash here loses nothing: a claimed page that was
not marked done is claimed again next time (and parked as failed after settings.QUEUE_MAX_ATTEMPTS, so one poison
page cannot stall the queue). Indexing is an upsert by clipping id, so reprocessing never duplicates.

Duplicates and updates. A page whose extracted text is exactly that of an earlier page of the same outlet (a print
version, the same article at two paths) is recorded as a duplicate of it (`State.mark_duplicate`) and not indexed;
copies on other outlets are syndication and join the story cluster instead. A page that replaces an indexed
clipping (an updated article, fetched again) keeps the first version's publication and first-fetch times and its
story cluster, and records when it was updated in `Clipping.extra["updated"]`.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from presswatch import settings
from presswatch.enrich.cluster import assign_cluster, content_hash, simhash
from presswatch.enrich.enricher import Enricher
from presswatch.enrich.extract import ExtractionError, extract
from presswatch.enrich.lang import LANGS
from presswatch.enrich.learn import ModelFile
from presswatch.enrich.official import OfficialRecord, records_from_release
from presswatch.index.base import ClippingIndex
from presswatch.profile import Profile
from presswatch.records import Article, Clipping, RawPage
from presswatch.state import State, utcnow

log = logging.getLogger(__name__)

# Copies of a story published further apart than this are separate stories, even if their texts are alike.
CLUSTER_WINDOW = timedelta(days=7)


@dataclass(slots=True)
class ProcessReport:
    indexed: int = 0
    new: int = 0
    relevant: int = 0
    failed: int = 0
    paywalled: int = 0  # teasers kept with their headline and lead
    joined: int = 0  # copies that joined an existing story cluster (syndication)
    duplicates: int = 0  # exact copies of a page of the same outlet: recorded, not indexed
    updated: int = 0  # new versions of clippings already indexed (updated articles)
    records: int = 0  # figures and dates taken into the official record from the municipality's releases
    rechecked: int = 0  # earlier clippings whose misleading flag changed against a new release
    errors: list[str] = field(default_factory=list)
    clippings: list[Clipping] = field(default_factory=list)
    # The index or the store could not be written at all (backend unreachable, disk full): the batch stopped and
    # its pages wait in the queue, their attempts not used up. The message names the backend or the store file.
    outage: str | None = None

    def add(self, other: ProcessReport) -> None:
        self.indexed += other.indexed
        self.new += other.new
        self.relevant += other.relevant
        self.failed += other.failed
        self.paywalled += other.paywalled
        self.joined += other.joined
        self.duplicates += other.duplicates
        self.updated += other.updated
        self.records += other.records
        self.rechecked += other.rechecked
        self.errors += other.errors
        self.clippings += other.clippings
        self.outage = other.outage or self.outage


class Processor:
    """Turns queued pages into indexed clippings. Built once per profile; `run` processes one batch."""

    def __init__(self, profile: Profile, state: State, index: ClippingIndex, enricher: Enricher,
                 model: ModelFile | None = None) -> None:
        self.profile = profile
        self.state = state
        self.index = index
        self.enricher = enricher
        self.model = model  # the press office's learned model, next to the store (enrich/learn.py)
        self.releases = {s.id for s in profile.sources.releases}  # the municipality's own: the official record
        self._load_records()

    @classmethod
    def from_profile(cls, profile: Profile, state: State, index: ClippingIndex) -> Processor:
        return cls(profile, state, index, Enricher.from_profile(profile), ModelFile(state.path, profile.id))

    def run(self, limit: int = settings.QUEUE_BATCH) -> ProcessReport:
        report = ProcessReport()
        if self.model is not None:
            try:  # a model retrained since the last batch is used from this batch on
                self.enricher.learned = self.model.current()
            except (OSError, ValueError, KeyError) as exc:
                log.warning("learned model %s not used: %s", self.model.path, exc)
                self.enricher.learned = None
        recheck_since: list[datetime] = []
        try:
            items = self.state.claim(limit, settings.QUEUE_MAX_ATTEMPTS)
        except Exception as exc:
            if (outage := self._outage(exc, 0)) is None:
                raise
            report.outage = outage
            report.errors.append(outage)
            return report
        for n, item in enumerate(items):
            page = item.page
            try:
                _refuse_binary(page)
                article = extract(page)
                if self._is_duplicate(page, article):
                    report.duplicates += 1
                    continue
                previous = self.index.get(article.id)
                extra: dict[str, object] = {}
                if previous is not None:
                    article, extra, changed = self._new_version(page, article, previous)
                    report.updated += int(changed)
                enrichment = self.enricher.enrich(article)
                if page.source in self.releases:
                    # the municipality's own release is the record, not a claim to check against it
                    enrichment = replace(enrichment, flags=tuple(f for f in enrichment.flags
                                                                 if f.type != "misleading"))
                    extra["release"] = page.source
                    if self._record_release(article, enrichment.lang, report):
                        recheck_since.append(article.published or page.fetched_at)
                fingerprint = simhash(article.text or article.title)
                when = article.published or page.fetched_at
                if previous is not None and previous.cluster_id:
                    cluster_id = previous.cluster_id  # alerts and the briefing know the story by this id
                else:
                    candidates = [c for c in self.index.fingerprints(self.profile.id, when - CLUSTER_WINDOW)
                                  if c[0] != article.id]
                    cluster_id = assign_cluster(article.id, fingerprint, candidates)
                clipping = Clipping(article=article, enrichment=enrichment, municipality=self.profile.id,
                                    cluster_id=cluster_id, fingerprint=fingerprint, indexed_at=utcnow(),
                                    extra=extra)
                report.new += self.index.upsert([clipping])
                self.state.done(page.id)
            except ExtractionError as exc:
                # Nothing usable on the page: retrying will not help; keep the raw page and the reason.
                self.state.failed(page.id, f"{page.url}: {exc}", retry=False)
                report.failed += 1
                report.errors.append(f"{page.url}: {exc}")
                continue
            except Exception as exc:  # noqa: BLE001 - one bad page must not stop the batch
                if (outage := self._outage(exc, len(items) - n)) is not None:
                    # Not this page's fault: it and the rest of the batch wait in the queue for the next run.
                    log.error("%s", outage)
                    self._postpone([i.page.id for i in items[n:]], outage)
                    report.outage = outage
                    report.errors.append(outage)
                    break
                log.exception("processing %s failed", page.url)
                retry = item.attempts < settings.QUEUE_MAX_ATTEMPTS
                self.state.failed(page.id, f"{type(exc).__name__}: {exc}", retry=retry)
                report.failed += 1
                report.errors.append(f"{page.url}: {type(exc).__name__}: {exc}")
                continue
            report.indexed += 1
            report.relevant += int(enrichment.relevant)
            report.paywalled += int(article.paywalled)
            report.joined += int(cluster_id != article.id)
            report.clippings.append(clipping)
        if recheck_since and report.outage is None:  # in an outage the index cannot be read either
            self._recheck(min(recheck_since), report)
        return report

    # --- the official record ------------------------------------------------------------------------------------

    def _load_records(self) -> None:
        records = [OfficialRecord.from_row(r) for r in self.state.records(self.profile.id)]
        self.enricher.facts.set_records(r.checked(self.enricher.facts.topics) for r in records)

    def _record_release(self, article: Article, lang: str, report: ProcessReport) -> bool:
        """Store what a release states; True when that changed the record (a new release, or an edited one)."""
        records = records_from_release(article, lang if lang in LANGS else self.profile.municipality.lang)
        before = {(r["cue"], r["context"]) for r in self.state.records(self.profile.id)
                  if r["release_id"] == article.id}
        after = {(r.cue, r.context) for r in records}
        if before == after:
            return False
        self.state.records_replace(self.profile.id, article.id, [r.to_row() for r in records])
        self._load_records()
        report.records += len(records)
        return True

    def _recheck(self, since: datetime, report: ProcessReport) -> None:
        """Check the clippings published since a new release against it: a claim the release contradicts becomes
        misleading (and one it confirms stops being). Only the misleading flag is recomputed."""
        since = max(since, utcnow() - timedelta(days=settings.RELEASE_RECHECK_DAYS))
        in_batch = {c.article.id: i for i, c in enumerate(report.clippings)}
        for cid, _, _ in self.index.fingerprints(self.profile.id, since):
            clipping = self.index.get(cid)
            if clipping is None or clipping.extra.get("release") or not clipping.enrichment.relevant:
                continue
            fresh = self.enricher.enrich(clipping.article)
            old = [f for f in clipping.enrichment.flags if f.type == "misleading"]
            new = [f for f in fresh.flags if f.type == "misleading"]
            if old == new:
                continue
            flags = tuple([f for f in clipping.enrichment.flags if f.type != "misleading"] + new)
            updated = replace(clipping, enrichment=replace(clipping.enrichment, flags=flags), indexed_at=utcnow())
            self.index.upsert([updated])
            report.rechecked += 1
            if cid in in_batch:
                report.clippings[in_batch[cid]] = updated
            else:
                report.clippings.append(updated)

    def _is_duplicate(self, page: RawPage, article: Article) -> bool:
        """The same text already came from this outlet under another URL: record this page as its duplicate."""
        if article.paywalled:
            return False
        digest = content_hash(article.text, settings.MIN_TEXT_CHARS, article.title)
        if digest is None:
            return False
        first = self.state.claim_content(page.id, page.url, page.outlet, digest)
        if first is not None and self.index.get(first) is None:
            # The first copy never made it into the index (failed, or another profile's): this one takes its place.
            self.state.release_content(page.outlet, digest, first)
            first = self.state.claim_content(page.id, page.url, page.outlet, digest)
        if first is None:
            return False
        self.state.mark_duplicate(page.id, page.url, first, digest)
        return True

    def _new_version(self, page: RawPage, article: Article,
                     previous: Clipping) -> tuple[Article, dict[str, object], bool]:
        """A new version of a clipping (an updated article, or reprocessing) keeps the story's original
        publication and first-fetch times; a changed text or title is recorded as an update."""
        article = replace(article, published=previous.article.published or article.published,
                          fetched_at=previous.article.fetched_at or article.fetched_at)
        extra = dict(previous.extra)
        changed = (previous.article.text, previous.article.title) != (article.text, article.title)
        if changed:
            extra["updated"] = (self.state.modified(page.url) or page.fetched_at).isoformat()
            extra["versions"] = int(str(extra.get("versions", 1))) + 1
        return article, extra, changed

    def run_all(self) -> ProcessReport:
        """Drain the queue (batch after batch) and return the combined report. An outage (index unreachable, disk
        full) ends the run: the next one tries again."""
        total = ProcessReport()
        while True:
            batch = self.run()
            total.add(batch)
            if batch.outage or batch.indexed + batch.failed + batch.duplicates == 0:
                return total

    # --- outages ------------------------------------------------------------------------------------------------

    def _outage(self, exc: BaseException, waiting: int) -> str | None:
        """What to report when `exc` says the index or the store cannot be written at all right now (the index
        backend is unreachable, the disk is full), or None for an error of the page itself. Such an error says
        nothing about the page, so it must neither use up the page's attempts nor park it as failed."""
        pages = f"{waiting} page(s) stay queued" if waiting else "queued pages wait"
        if _disk_full(exc):
            where = getattr(self.index, "path", None) or self.state.path  # by default one file holds both
            return f"store {where}: the disk is full ({_root(exc)}); {pages} until there is space"
        if _unreachable(exc):
            backend = _describe_index(self.index)
            return f"index backend {backend} unreachable ({type(exc).__name__}: {exc}); {pages} until it is back"
        return None

    def _postpone(self, page_ids: list[str], reason: str) -> None:
        try:
            self.state.postpone(page_ids, reason)
        except Exception:  # noqa: BLE001 - the store itself may be full: the claim then cost one attempt, no more
            log.exception("could not put %d page(s) back in the queue", len(page_ids))


# Bytes that never occur in text (C0 controls other than tab, newlines, form feed and escape). A page whose head is
# more than BINARY_SHARE of them is binary (an image, an undecodable gzip body) whatever its Content-Type says.
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
BINARY_SHARE = 0.05


def _refuse_binary(page: RawPage) -> None:
    """Raise ExtractionError for a page that is not text at all (binary garbage served as text/html): the
    extractor would otherwise index the noise it decodes from it as an article."""
    head = page.body[:65536]
    if not head or head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NUL bytes by design
        return
    controls = len(head) - len(head.translate(None, _CONTROL))
    if controls > BINARY_SHARE * len(head):
        ctype = page.headers.get("content-type", "no Content-Type")
        raise ExtractionError(f"{page.url}: binary content ({controls} of the first {len(head)} bytes are not"
                              f" text), not an HTML page, though served as {ctype}")


def _disk_full(exc: BaseException | None) -> bool:
    """SQLITE_FULL, ENOSPC or EFBIG, also behind the error of a ROLLBACK that found no transaction: SQLite itself
    rolls a transaction back on SQLITE_FULL, and the caller's ROLLBACK then raises "no transaction is active"."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, sqlite3.Error) and (getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
                                               or "disk is full" in str(exc)):
            return True
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _root(exc: BaseException) -> BaseException:
    """The first error of a chain (what SQLite said before a failed ROLLBACK said something else)."""
    while (inner := exc.__cause__ or exc.__context__) is not None and inner is not exc:
        exc = inner
    return exc


def _unreachable(exc: BaseException) -> bool:
    """A connection-level failure of a networked index backend (Elasticsearch's client raises its own
    TransportError family, not the builtin ConnectionError)."""
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    try:
        from elastic_transport import ConnectionError as TransportConnectionError
        from elastic_transport import ConnectionTimeout
    except ImportError:  # pragma: no cover - the elasticsearch extra is not installed
        return False
    return isinstance(exc, TransportConnectionError | ConnectionTimeout)


def _describe_index(index: ClippingIndex) -> str:
    url = getattr(index, "url", None)
    if url:
        return f"Elasticsearch at {url}"
    path = getattr(index, "path", None)
    return f"{type(index).__name__} at {path}" if path else type(index).__name__
