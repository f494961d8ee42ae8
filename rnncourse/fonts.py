"""Korean text in the course's plots, on a fresh machine with only pip.

The font is NanumGothic (SIL Open Font License), shipped inside the PyPI package koreanize-matplotlib (MIT). Only
its font file is used: the package's own set-up imports distutils, which Python 3.12 no longer has. NanumGothic
is added as a fallback after matplotlib's DejaVu Sans, so Latin text and mathtext look as before and Hangul is
drawn instead of empty boxes.
"""

import dataclasses
import importlib.util
from pathlib import Path

import matplotlib
from matplotlib import font_manager

KOREAN = "NanumGothic"


def korean_font_file(weight: str = "") -> Path:
    """NanumGothic{weight}.ttf inside the installed koreanize-matplotlib package (found without importing it)."""
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the Korean font comes with the package koreanize-matplotlib: "
                          "pip install -r requirements.txt")
    return Path(spec.submodule_search_locations[0]) / "fonts" / f"{KOREAN}{weight}.ttf"


def use_korean_font() -> None:
    """Register NanumGothic with matplotlib and list it after the default sans-serif font (DejaVu Sans): matplotlib
    takes each glyph from the first family that has it, so Hangul comes from NanumGothic."""
    # NanumGothicBold declares weight 600, so every bold text (DejaVu's or not) made matplotlib warn that it found
    # no bold NanumGothic: it is registered as the bold (700) it is meant to be.
    bold = font_manager.ttfFontProperty(font_manager.get_font(korean_font_file("Bold")))
    font_manager.fontManager.ttflist.append(dataclasses.replace(bold, weight=700))
    font_manager.fontManager.addfont(str(korean_font_file()))  # (which also empties the font lookup's cache)
    matplotlib.rcParams["font.family"] = [matplotlib.rcParams["font.sans-serif"][0], KOREAN]  # fallback in order
