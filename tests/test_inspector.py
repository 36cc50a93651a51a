"""The instruction inspector driven as a user drives it: type, leave the box, pick an emotion,
drag the intensity slider, ask for a new variation; filled with a segment from a real listen
of 10 s of telephone speech (rules writer)."""

import copy
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("PySide6", reason="the studio extra is not installed (pip install -e .[studio])")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionSlider  # noqa: E402

from core.audio import load_audio  # noqa: E402
from core.instruct import make_writer  # noqa: E402
from core.instruct.wording import INTENSITY_ADVERBS, level, level_value, parse  # noqa: E402
from core.pipeline import listen_and_instruct  # noqa: E402
from core.project import EMOTIONS, Instruction  # noqa: E402
from studio.inspector import Inspector  # noqa: E402

DATA = Path(__file__).parent / "data" / "listen"


@pytest.fixture(scope="module")
def segments(tmp_path_factory):
    """The segments of a real listen: the first 10 s of the pyannote sample, rules writer."""
    x, rate = sf.read(DATA / "sample.wav")
    path = tmp_path_factory.mktemp("speech") / "speech10.wav"
    sf.write(path, x[: 10 * rate], rate)
    return listen_and_instruct(load_audio(path), writer=make_writer("rules")).segments


@pytest.fixture
def segment(segments):
    """The segment with the most words (a fresh copy per test)."""
    return copy.deepcopy(max(segments, key=lambda s: len(s.evidence.get("words", []))))


@pytest.fixture
def panel(qtbot):
    w = Inspector()
    qtbot.addWidget(w)
    w.resize(380, 640)
    with qtbot.waitActive(w):        # keys and focus act on the active window, as for a user
        w.show()
        w.activateWindow()
    return w


def recorder(signal):
    got = []
    signal.connect(lambda *args: got.append(args))
    return got


def test_show_segment_fills_the_panel_and_never_emits(panel, qtbot, segment):
    edits, seeds = recorder(panel.instructionEdited), recorder(panel.seedChanged)
    assert not panel.text.isEnabled() and panel.hint.isVisible()
    segment.seed = 1234
    panel.show_segment(1, segment)
    ins = segment.instruction
    assert panel.text.toPlainText() == ins.text and panel.text.isEnabled() and not panel.hint.isVisible()
    assert panel.emotion.currentText() == ins.emotion
    assert panel.intensity.value() == level(ins.intensity)
    assert panel.adverb.text() == INTENSITY_ADVERBS[level(ins.intensity)]
    assert panel.seed.value() == 1234
    assert panel.writer.text() == "written by rules"
    for w in segment.evidence["words"]:
        assert w["text"] in panel.words.text()
    assert panel.prosody.text() == segment.evidence["prosody_text"]
    assert f"{segment.evidence['prosody']['pitch_hz']:.0f} Hz" in panel.pitch.text()
    assert "dB" in panel.loudness.text()
    # why the writer chose the emotion: the words' reading and the voice
    assert panel.why.isVisible() and "words read" in panel.why.text() and "voice" in panel.why.text()
    assert f"{segment.start:.2f}" in panel.timing.text() and f"{segment.end:.2f}" in panel.timing.text()
    # another segment, then nothing: still no edit signals, and the panel disables itself
    other = copy.deepcopy(segment)
    other.instruction = Instruction("A person feels very happy and speaks with lip corners strongly pulled up.",
                                    "happy", 0.7, "rules")
    panel.show_segment(2, other)
    assert panel.emotion.currentText() == "happy" and panel.intensity.value() == 3
    panel.show_segment(-1, None)
    assert not panel.text.isEnabled() and not panel.emotion.isEnabled() and panel.hint.isVisible()
    qtbot.wait(TYPING_WAIT)
    assert edits == [] and seeds == []


TYPING_WAIT = 900        # longer than the panel's typing pause


def type_text(qtbot, panel, text):
    qtbot.mouseClick(panel.text.viewport(), Qt.LeftButton, pos=QPoint(20, 10))
    assert panel.text.hasFocus()
    qtbot.keyClick(panel.text, Qt.Key_A, Qt.ControlModifier)
    qtbot.keyClicks(panel.text, text)


def test_typing_then_leaving_the_box_applies_the_text_once(panel, qtbot, segment):
    panel.show_segment(1, segment)
    edits = recorder(panel.instructionEdited)
    type_text(qtbot, panel, "A person feels very sad and speaks with lips pressed.")
    assert edits == []                                     # nothing while typing
    qtbot.mouseClick(panel.seed, Qt.LeftButton)             # the user clicks elsewhere
    assert len(edits) == 1
    index, ins = edits[0]
    assert index == 1 and isinstance(ins, Instruction)
    assert ins.text == "A person feels very sad and speaks with lips pressed."
    assert (ins.emotion, ins.intensity, ins.writer) == ("sad", level_value(3), "user")
    # the controls now show what the text says
    assert panel.emotion.currentText() == "sad" and panel.intensity.value() == 3
    qtbot.wait(TYPING_WAIT)                                 # the typing pause does not apply it again
    assert len(edits) == 1
    # the window shows the edited segment again (as it does after every edit): no new signal
    segment.instruction = ins
    panel.show_segment(1, segment)
    qtbot.mouseClick(panel.text.viewport(), Qt.LeftButton)
    qtbot.mouseClick(panel.seed, Qt.LeftButton)            # in and out without a change
    assert len(edits) == 1


def test_a_pause_in_typing_or_ctrl_enter_applies_the_text(panel, qtbot, segment):
    panel.show_segment(0, segment)
    edits = recorder(panel.instructionEdited)
    type_text(qtbot, panel, "She is furious")
    assert edits == []
    with qtbot.waitSignal(panel.instructionEdited, timeout=3000) as blocker:
        pass                                               # the user stops typing
    assert blocker.args[1].emotion == "angry" and blocker.args[1].text == "She is furious"
    qtbot.keyClicks(panel.text, " and a bit scared")
    qtbot.keyClick(panel.text, Qt.Key_Return, Qt.ControlModifier)
    assert len(edits) == 2 and edits[1][1].text == "She is furious and a bit scared"
    assert panel.text.toPlainText() == "She is furious and a bit scared"    # Ctrl+Enter adds no line
    qtbot.wait(TYPING_WAIT)
    assert len(edits) == 2


def test_picking_an_emotion_rewrites_the_text(panel, qtbot, segment):
    panel.show_segment(1, segment)
    edits = recorder(panel.instructionEdited)
    combo = panel.emotion
    qtbot.mouseClick(combo, Qt.LeftButton)                 # open the list
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    qtbot.wait(QApplication.doubleClickInterval() + 50)      # a popup ignores a click the instant it opens
    rect = view.visualRect(combo.model().index(EMOTIONS.index("angry"), 0))
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: len(edits) == 1)
    index, ins = edits[0]
    text = panel.text.toPlainText()
    assert index == 1 and ins.text == text and ins.emotion == "angry" and ins.writer == "user"
    assert text.startswith("A person feels ") and " angry " in text and "brows" in text
    assert parse(text)[1] == pytest.approx(level_value(level(segment.instruction.intensity)))   # same intensity
    assert combo.currentText() == "angry"


def slider_handle(slider):
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    return slider.style().subControlRect(QStyle.CC_Slider, opt, QStyle.SC_SliderHandle, slider)


def test_the_intensity_slider_rewrites_the_degree(panel, qtbot, segment):
    segment.instruction = Instruction("A person feels slightly angry and speaks with brows slightly lowered.",
                                      "angry", 0.1, "rules")
    panel.show_segment(3, segment)
    edits = recorder(panel.instructionEdited)
    slider = panel.intensity
    # keyboard: one step up at a time
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key_Right)
    assert len(edits) == 1 and edits[0][1].intensity == level_value(1)
    assert panel.text.toPlainText() == "A person feels mildly angry and speaks with brows mildly lowered."
    assert panel.adverb.text() == "mildly"
    # mouse: drag the handle to the far right; applied once, on release
    handle = slider_handle(slider)
    qtbot.mousePress(slider, Qt.LeftButton, pos=handle.center())
    for x in range(handle.center().x(), slider.width(), 8):
        qtbot.mouseMove(slider, QPoint(x, handle.center().y()))
    assert len(edits) == 1 and panel.adverb.text() == "extremely"     # the adverb follows the drag
    qtbot.mouseRelease(slider, Qt.LeftButton, pos=QPoint(slider.width() - 2, handle.center().y()))
    assert len(edits) == 2
    ins = edits[1][1]
    assert ins.intensity == level_value(4) and ins.emotion == "angry"
    assert ins.text.startswith("A person feels extremely angry") and panel.text.toPlainText() == ins.text


def test_new_variation_and_the_seed_box(panel, qtbot, segment):
    segment.seed = 7
    panel.show_segment(1, segment)
    seeds = recorder(panel.seedChanged)
    qtbot.mouseClick(panel.variation, Qt.LeftButton)
    assert len(seeds) == 1 and seeds[0][0] == 1 and seeds[0][1] != 7
    assert panel.seed.value() == seeds[0][1]
    qtbot.mouseClick(panel.variation, Qt.LeftButton)
    assert len(seeds) == 2 and seeds[1][1] != seeds[0][1]
    # typing a seed applies on Enter
    panel.seed.setFocus()
    panel.seed.selectAll()
    qtbot.keyClicks(panel.seed, "42")
    qtbot.keyClick(panel.seed, Qt.Key_Return)
    qtbot.wait(600)
    assert seeds[2:] == [(1, 42)]


def test_rewrite_request_and_busy_indicator(panel, qtbot, segment):
    panel.show_segment(2, segment)
    with qtbot.waitSignal(panel.rewriteRequested, timeout=1000) as blocker:
        qtbot.mouseClick(panel.rewrite_button, Qt.LeftButton)
    assert blocker.args == [2]
    panel.set_busy(True)
    assert panel.busy.isVisible() and panel.text.isEnabled() and panel.emotion.isEnabled()
    panel.set_busy(False)
    assert not panel.busy.isVisible()


def test_text_being_typed_survives_a_refresh_of_the_same_segment(panel, qtbot, segment):
    panel.show_segment(1, segment)
    type_text(qtbot, panel, "A person feels very happy ")      # still typing (trailing space)
    panel.show_segment(1, segment)                              # e.g. the track finished regenerating
    assert panel.text.toPlainText() == "A person feels very happy "
    with qtbot.waitSignal(panel.instructionEdited, timeout=3000) as blocker:
        pass
    assert blocker.args[1].emotion == "happy"


def test_screenshot(panel, qtbot, segment, tmp_path):
    panel.show_segment(1, segment)
    panel.set_busy(True)
    qtbot.wait(50)
    image = panel.grab()
    assert image.save("/tmp/inspector.png")
    img = image.toImage()
    assert img.width() >= 380 and img.height() >= 600
    grey = np.array([img.pixelColor(x, y).lightness() for x in range(0, img.width(), 7)
                     for y in range(0, img.height(), 7)])
    assert grey.std() > 10                                      # not blank


SCRIPTS = {"ja": "水をマレーシアから買わなくてはならないのです", "zh": "我们明天见", "ko": "안녕하세요 감사합니다",
           "hi": "नमस्ते आप कैसे हैं", "ar": "مرحبا كيف حالك", "th": "สวัสดีครับ", "ml": "നമസ്കാരം",
           "ru": "Привет, как дела", "he": "שלום מה שלומך", "bn": "আপনি কেমন আছেন"}


def missing_glyphs(text: str, font) -> list[str]:
    """The characters of `text` drawn as the missing-glyph box in `font` (after Qt's fallbacks)."""
    from PySide6.QtGui import QTextLayout
    layout = QTextLayout(text, font)
    layout.beginLayout()
    layout.createLine().setLineWidth(1e5)
    layout.endLayout()
    missing = []
    for run in layout.glyphRuns():
        if 0 in list(run.glyphIndexes()):
            missing.append(run.rawFont().familyName())
    return missing


@pytest.mark.parametrize("language", SCRIPTS)
def test_the_original_words_are_drawn_in_their_own_script(panel, qtbot, segment, language):
    """A take in another language shows its words as written: the set-up installs fonts for
    every script (no boxes for missing glyphs)."""
    words = [{"text": w, "start": 0.1 * k, "end": 0.1 * k + 0.1, "p": 0.9}
             for k, w in enumerate(SCRIPTS[language].split())]
    segment.evidence.update(words=words, original=SCRIPTS[language], language=language, text="Hello, how are you")
    panel.show_segment(1, segment)
    shown = panel.words.text()
    assert SCRIPTS[language].split()[0] in shown and "in English" in shown
    assert missing_glyphs(SCRIPTS[language], panel.words.font()) == []
    qtbot.wait(20)
    assert panel.grab().save(f"/tmp/inspector-{language}.png")
