"""Korean text in plots is drawn with real glyphs on a machine with only pip (rnncourse/fonts.py)."""

import logging
import warnings

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font

import rnncourse  # noqa: F401  (importing the course's library sets the Korean fallback font)
from rnncourse.fonts import KOREAN, korean_font_file

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

WORDS = "기울기 소실과 장기 의존성"


def rendered(text: str, families=None) -> np.ndarray:
    """The pixels of `text` drawn alone on a small white figure, with the current fonts or `families`."""
    with matplotlib.rc_context({"font.family": families} if families else {}):
        fig = plt.figure(figsize=(3, 0.6), dpi=80)
        fig.text(0.02, 0.3, text, fontsize=16)
        fig.canvas.draw()
        pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
        plt.close(fig)
    return pixels


def test_the_course_library_sets_nanumgothic_as_the_fallback_after_the_default_font():
    assert matplotlib.rcParams["font.family"][-1] == KOREAN
    font = FT2Font(str(korean_font_file()))
    assert all(font.get_char_index(ord(ch)) for ch in WORDS.replace(" ", ""))


def test_korean_text_is_drawn_without_a_missing_glyph():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rendered(WORDS)
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_each_syllable_gets_its_own_glyph_not_the_same_empty_box():
    drawn = [rendered(ch) for ch in "기소장"]
    assert all((d < 128).any() for d in drawn)                       # ink on the page
    assert not np.array_equal(drawn[0], drawn[1]) and not np.array_equal(drawn[1], drawn[2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                              # DejaVu alone: the missing-glyph box
        boxes = [rendered(ch, ["DejaVu Sans"]) for ch in "기소"]
    assert np.array_equal(boxes[0], boxes[1])                        # what the test would catch
    assert not np.array_equal(drawn[0], boxes[0])


def test_bold_text_finds_a_bold_korean_font_without_a_warning(caplog):
    """matplotlib looks up every family of the list for bold text (the diagrams' boxes): NanumGothicBold is there."""
    with caplog.at_level(logging.WARNING, logger="matplotlib.font_manager"):
        fig, ax = plt.subplots()
        ax.text(0.5, 0.5, "굵은 글씨 tanh", weight="bold")
        fig.canvas.draw()
        plt.close(fig)
    assert not [r for r in caplog.records if "Failed to find font weight" in r.getMessage()]
    assert font_manager.findfont(FontProperties(family="NanumGothic", weight="bold")).endswith("NanumGothicBold.ttf")
