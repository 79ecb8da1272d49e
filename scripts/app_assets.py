"""Put Solara's page files into its asset folder: ``python -m impactsim.app.assets``.

python scripts/app_assets.py          # fetch what is missing (needs `npm`)
python scripts/app_assets.py --check  # exit 1 if something is missing
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from impactsim.app.assets import main

if __name__ == "__main__":
    sys.exit(main())
