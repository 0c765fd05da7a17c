"""How a leaderboard (:mod:`bench.report.leaderboard`) is written: one module per format.

``markdown``, ``csv_table``, ``json_data``, ``latex``, ``model_index`` (YAML),
``html_page`` (a Jinja2 template) and ``plots`` (PNG) each turn a
:class:`~bench.report.leaderboard.Leaderboard` into one format; ``text`` holds the
titles and number formats they share; :func:`bench.report.render.outputs.write_leaderboard`
writes every file.
"""
