"""The app's entry: the Solara page and the server that ``impactsim app`` starts.

``impactsim app [SCENARIO ...] [--port N] [--host H] [--lang nl]`` calls :func:`serve`,
which runs Solara's Starlette application under uvicorn in this process. The same page
also runs under Solara's own command: ``solara run impactsim.app.main``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

from impactsim.app.pages import Page
from impactsim.app.state import LANG_ENV, SCENARIOS_ENV

__all__ = ["Page", "serve"]

#: How long the session of a closed or disconnected tab is kept (reconnecting within it
#: keeps edits and results); ``SOLARA_KERNEL_CULL_TIMEOUT`` overrides it.
CULL_TIMEOUT = "10m"


def serve(
    scenarios: Sequence[Path] = (),
    host: str = "127.0.0.1",
    port: int = 8765,
    lang: str = "en",
    log_level: str = "warning",
) -> None:
    """Serve the app until interrupted.

    Args:
        scenarios: scenario files to start with (validated by the caller); none: the
            built-in default municipality.
        host: address to listen on (127.0.0.1: this computer only).
        port: port to listen on.
        lang: language the app opens in.
        log_level: uvicorn's log level.
    """
    os.environ[SCENARIOS_ENV] = os.pathsep.join(str(Path(p).resolve()) for p in scenarios)
    os.environ[LANG_ENV] = lang
    os.environ["SOLARA_APP"] = "impactsim.app.main:Page"
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # no network
    os.environ.setdefault("SOLARA_MODE", "production")
    os.environ["SERVER_NAME"], os.environ["SERVER_PORT"] = host, str(port)
    import matplotlib
    import uvicorn

    from impactsim.app.jobs import warm_engine
    from impactsim.app.state import given_scenarios

    matplotlib.use("Agg")  # figures are drawn off-screen, in worker threads
    if "SOLARA_KERNEL_CULL_TIMEOUT" not in os.environ:
        from solara.server import settings

        # a closed tab's session ends after this (Solara's default: 24 h); its run is
        # then cancelled at the next replicate instead of holding the simulation slot
        settings.kernel.cull_timeout = CULL_TIMEOUT
    start = given_scenarios()[0]
    threading.Thread(target=warm_engine, args=(start,), daemon=True, name="warm-up").start()

    # Solara reads SOLARA_APP when its server module is first imported
    uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level=log_level)
