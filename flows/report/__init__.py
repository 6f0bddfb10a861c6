"""Study reports a researcher can put in front of a committee, identical on every rebuild.

`build_report(con, out_dir, settings)` writes ``report.html`` (one self-contained page: inline
CSS and SVG, no script, no network), ``report.md``, ``tables/*.csv`` and ``run.json``
(provenance) from the report-facing views of `flows/report/sql/`. Sections: corpus, accounts,
codes, topics, reliability, methods; each says plainly when its data do not exist yet.
`verify_report` rebuilds into a temporary folder and names the first file that differs.

Modules: ``settings`` (ReportSettings), ``reads`` (the views), one module per section
(``corpus``, ``accounts``, ``codes`` + ``code_profiles``, ``topics``, ``reliability``,
``methods``), ``privacy`` (pseudonyms, quote masking), ``svg`` (charts), ``render`` (HTML,
Markdown, CSV), ``provenance`` and ``build``.
"""
