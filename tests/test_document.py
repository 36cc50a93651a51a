"""The studio's document and worker with the shipped model on real speech: undoable edits,
regeneration in the background (latest edit wins), and undo that restores motion exactly."""

import threading

import numpy as np
import pytest

pytest.importorskip("PySide6", reason="the studio extra is not installed (pip install -e .[studio])")

from core.audio import load_audio  # noqa: E402
from core.instruct import make_writer  # noqa: E402
from tests.conftest import cut_speech  # noqa: E402
from core.pipeline import animate, listen_and_instruct, make_project, user_instruction  # noqa: E402
from core.project import MAIN_TRACK  # noqa: E402
from studio.document import Document  # noqa: E402
from core.editing import territories  # noqa: E402
from studio.jobs import Export, Import, Regeneration, Worker  # noqa: E402


@pytest.fixture(scope="module")
def bundle(shipped_model):
    return shipped_model


@pytest.fixture(scope="module")
def generated(bundle, tmp_path_factory):
    audio = load_audio(cut_speech(tmp_path_factory.mktemp("speech"), 8))
    project = make_project(audio, listen_and_instruct(audio, writer=make_writer("rules"), max_length=3.0), bundle.fps)
    project.tracks[MAIN_TRACK] = animate(project, bundle)
    assert len(project.segments) >= 3
    return project


@pytest.fixture
def doc(generated):
    import copy
    return Document(copy.deepcopy(generated))


@pytest.fixture
def worker(qtbot):
    w = Worker()
    yield w
    w.shutdown()
    assert not w._thread.isRunning()


ANGRY = user_instruction("A person feels very angry and speaks with brows lowered and lips pressed.")


def regenerate_all(doc, worker, bundle, qtbot):
    for span in list(doc.stale):
        worker.submit(doc.regeneration(span, lambda: bundle))
    qtbot.waitUntil(lambda: not worker.busy, timeout=30000)


def apply(doc):
    return lambda job, result: doc.apply_result(job.span, result)


def test_an_edit_regenerates_its_segment_and_undo_restores_the_motion(doc, worker, bundle, qtbot):
    worker.finished.connect(apply(doc))
    original = doc.track.data.copy()
    doc.set_instruction(1, ANGRY)
    assert doc.project.segments[1].instruction == ANGRY and doc.segment_state(1) == "stale"
    assert doc.segment_state(0) == "ready" and doc.undo_stack.count() == 1
    with qtbot.waitSignal(worker.finished, timeout=30000):
        regenerate_all(doc, worker, bundle, qtbot)
    assert not doc.stale and doc.segment_state(1) == "ready"
    lo, hi = territories(doc.project.segments, doc.frames / 30)[1]      # the segment and its half of each gap
    a, b = round(lo * 30), round(hi * 30)
    edited = doc.track.data.copy()
    np.testing.assert_array_equal(edited[:a], original[:a])
    np.testing.assert_array_equal(edited[b:], original[b:])
    assert np.abs(edited[a:b] - original[a:b]).mean() > 1e-3

    doc.undo_stack.undo()                   # the old text and, at once, the old motion
    assert doc.project.segments[1].instruction != ANGRY and not doc.stale
    assert doc.undo_stack.redoText().startswith("Change emotion") and doc.undo_stack.redoText().endswith("of segment 2")
    np.testing.assert_array_equal(doc.track.data, original)
    doc.undo_stack.redo()                   # computed before: from the cache, no model run
    assert not doc.stale and not worker.busy
    np.testing.assert_array_equal(doc.track.data, edited)


def test_the_latest_edit_wins(doc, worker, bundle, qtbot):
    done, cancelled = [], []
    worker.finished.connect(lambda job, result: done.append(job.span))
    worker.cancelled.connect(lambda job: cancelled.append(job.span))
    worker.finished.connect(apply(doc))
    doc.set_instruction(0, ANGRY)
    first = doc.stale[0]
    worker.submit(doc.regeneration(first, lambda: bundle))
    doc.set_seed(0, 5)                       # the same segment again, before the first job is done
    second = doc.stale[0]
    worker.submit(doc.regeneration(second, lambda: bundle))
    qtbot.waitUntil(lambda: not worker.busy, timeout=30000)
    assert first in cancelled and second in done and first not in done
    assert not doc.stale and doc.project.segments[0].seed == 5


def test_segment_edits_are_single_undo_steps(doc):
    segs = doc.project.segments
    n, (s0, e0) = len(segs), (segs[0].start, segs[0].end)
    doc.split(0, (s0 + e0) / 2)
    assert len(doc.project.segments) == n + 1 and not doc.stale          # same instruction: motion stands
    doc.merge_with_next(0)
    assert len(doc.project.segments) == n and doc.project.segments[0].end == pytest.approx(e0)
    k = next(i for i, s in enumerate(segs) if len(s.evidence.get("words", [])) >= 2)
    words, (_, ek) = segs[k].evidence["words"], (segs[k].start, segs[k].end)
    cut = (words[0]["end"] + words[1]["start"]) / 2
    doc.split(k, cut)
    halves = [s.evidence["words"] for s in doc.project.segments[k:k + 2]]
    assert halves == [words[:1], words[1:]]                                 # each half holds its own words
    doc.merge_with_next(k)
    assert doc.project.segments[k].evidence["words"] == words and doc.project.segments[k].end == pytest.approx(ek)
    doc.retime(1, doc.project.segments[1].start + 0.3, doc.project.segments[1].end)
    assert doc.segment_state(1) == "stale"
    doc.retime(1, -5.0, 1e6)                 # clamped between its neighbours
    assert doc.project.segments[1].start == pytest.approx(doc.project.segments[0].end)
    doc.delete(2)
    assert len(doc.project.segments) == n - 1
    i = doc.add(0.5, 1.5)
    assert doc.project.segments[i].start == 0.5 and doc.project.segments[i].instruction.emotion == "neutral"
    starts = [s.start for s in doc.project.segments]
    assert starts == sorted(starts) and all(a.end <= b.start + 1e-9 for a, b in
                                           zip(doc.project.segments, doc.project.segments[1:]))
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()
    assert [(s.start, s.end) for s in doc.project.segments][0] == (s0, e0) and len(doc.project.segments) == n
    assert not doc.stale


def test_a_failing_job_is_reported_not_raised(worker, qtbot):
    def boom(progress):
        raise RuntimeError("the model is gone")
    job = Export(boom, path="x.fbx")
    with qtbot.waitSignal(worker.failed, timeout=5000) as sig:
        handle = worker.submit(job)
        failed = []
        handle.failed.connect(failed.append)
    assert sig.args == [job, "RuntimeError: the model is gone"] and failed == ["RuntimeError: the model is gone"]
    qtbot.waitUntil(lambda: not worker.busy, timeout=5000)
    assert threading.active_count() >= 1


def test_each_job_kind_cancels_only_what_it_replaces(worker, qtbot):
    """An import cancels the model work of the take it replaces, never an export; a regeneration
    cancels only the regeneration of overlapping frames."""
    from core.editing import Span
    gate = threading.Event()
    started = threading.Event()

    def slow(progress):
        started.set()
        while not gate.wait(0.01):
            progress.report(0.5)
        return "written"

    export = worker.submit(Export(slow, path="take.mp4"))
    assert started.wait(5)
    near, far = Span(0, 30, 0, ("a",)), Span(100, 130, 0, ("b",))
    regen = [worker.submit(Regeneration(lambda p: "r", span=s)) for s in (near, far)]
    events = []
    regen[0].cancelled.connect(lambda: events.append("near cancelled"))
    regen[1].cancelled.connect(lambda: events.append("far cancelled"))
    export.cancelled.connect(lambda: events.append("export cancelled"))
    export.done.connect(lambda r: events.append(f"export {r}"))
    worker.submit(Regeneration(lambda p: "r2", span=Span(20, 40, 1, ("c",))))
    assert events == ["near cancelled"]
    worker.submit(Import(lambda p: "project", path="x.wav"))
    assert events == ["near cancelled", "far cancelled"]
    gate.set()
    qtbot.waitUntil(lambda: "export written" in events and not worker.busy, timeout=5000)   # signals are queued
    assert events == ["near cancelled", "far cancelled", "export written"]


def test_the_undo_history_is_bounded():
    import studio.document as D
    from core.project import Project
    doc = D.Document(Project())
    assert doc.undo_stack.undoLimit() == D.UNDO_LIMIT


def test_a_new_performance_restarts_the_undo_history_and_stays_unsaved(doc):
    """Undo after a re-animation must not write motion of the performance before back."""
    from core.track import FaceTrack
    doc.set_instruction(1, ANGRY)
    assert doc.replace_track(FaceTrack(doc.fps, doc.track.data * 0.5))
    assert doc.undo_stack.count() == 0 and not doc.undo_stack.isClean()


def test_edits_made_while_the_first_performance_is_animated_stay_undoable(generated):
    import copy
    from core.track import FaceTrack
    project = copy.deepcopy(generated)
    track = project.tracks.pop(MAIN_TRACK)               # as after an import, before animation
    doc = Document(project)
    made_from = list(doc.project.segments)
    doc.set_instruction(1, ANGRY)
    assert not doc.replace_track(FaceTrack(track.fps, track.data), made_from=made_from)
    assert doc.undo_stack.count() == 1 and doc.segment_state(1) == "stale"


def test_workers_share_the_gil_finely_and_the_last_one_puts_the_interval_back(qtbot):
    import sys
    before = sys.getswitchinterval()
    a, b = Worker(), Worker()
    assert sys.getswitchinterval() == pytest.approx(0.001)
    a.shutdown()
    assert sys.getswitchinterval() == pytest.approx(0.001)        # b still runs
    a.shutdown()                                                   # a second shutdown changes nothing
    b.shutdown()
    assert sys.getswitchinterval() == before
