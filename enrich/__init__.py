"""presswatch.enrich — per-article work: extraction, language, mentions, relevance, sentiment, flags, clusters.

Public API (import from the modules; this package stays import-light because `index/` uses `enrich.text`):

    extract.extract(page: RawPage) -> Article            raises extract.ExtractionError when nothing is usable
    extract.extract_page(page) -> Extracted              the same, body and lead apart, date source, paywall reason
    extraction_eval.evaluate_extraction(data_dir) -> {corpus: CorpusReport}   (presswatch eval extraction)
    enricher.Enricher.from_profile(profile) -> Enricher
        .enrich(article: Article) -> Enrichment          the stage's one entry method
        .enrich_item(item: dict) -> dict                 the JSONL contract (DESIGN.md)
    cluster.simhash(text) -> int   cluster.hamming(a, b) -> int
    cluster.assign_cluster(clipping_id, fingerprint, candidates, max_distance) -> cluster_id
    lang.detect(text) -> str       lang.detect_article(title, text) -> str
    evaluate.evaluate(set_dir) -> EvalReport   evaluate.format_report(report) -> str

    python -m presswatch.enrich --profile config/demo.yaml < items.jsonl > enriched.jsonl
    python -m presswatch.enrich.evaluate ../shared/eval/dev --errors

Word lists and cue lists live in `lexicons/<lang>/*.txt` (see lexicons.py for the format); an own labelled
evaluation set in `evalset/`, the quality floors in `eval_floors.json`.
"""
