"""Where the example sequences and templates are: in the package (an installed wheel, see
setup.py) or at the top of the source checkout (a clone, an editable install)."""

from __future__ import annotations

from pathlib import Path

from engine.errors import ConfigError

_PACKAGED = Path(__file__).resolve().parents[1] / "examples"
_CHECKOUT = Path(__file__).resolve().parents[2]


def root() -> Path:
    """The folder holding sequences/ and templates/."""
    if (_PACKAGED / "sequences").is_dir():
        return _PACKAGED
    if (_CHECKOUT / "sequences").is_dir():
        return _CHECKOUT
    raise ConfigError(
        f"the example sequences are in neither {_PACKAGED} nor {_CHECKOUT} "
        "(reinstall kadenz: `pip install .` from a checkout ships them)"
    )
