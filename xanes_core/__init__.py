"""xanes_core: tell topological from trivial materials by their K-edge XANES.

The package is the product's brain: the dashboard in ``pages/`` and the CLI
(``python -m xanes_core``) are thin views over it. It never imports Streamlit.
"""

from xanes_core.errors import XanesError

__all__ = ["XanesError"]
__version__ = "0.1.0"
