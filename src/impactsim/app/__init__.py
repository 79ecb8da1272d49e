"""The planners' web app: ``impactsim app`` (docs/app.md).

The top layer of the package: it uses the runner, the comparison, the report, the plots
and the translations; nothing below imports it. Modules:

- :mod:`~impactsim.app.knobs`: the editable values, their units and ranges (no UI);
- :mod:`~impactsim.app.jobs`: runs, figures and the report, off the page (no UI);
- :mod:`~impactsim.app.results`: the results as translated text and tables (no UI);
- :mod:`~impactsim.app.state`: per-session state and the background run (Solara);
- :mod:`~impactsim.app.upload`, :mod:`~impactsim.app.pages`: the page (Solara);
- :mod:`~impactsim.app.main`: the entry point and the server;
- :mod:`~impactsim.app.assets`: checks that Solara's page files (solara-assets) are installed.
"""
