"""The window's background work: regenerating stale spans, animating, importing, rewriting,
and what the status line and the inspector say about it.

A mixin of studio.window.MainWindow. Every job runs on the window's one worker (studio.jobs);
results come back here on the UI thread.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from core.project import Project
from core.track import FaceTrack
from studio import APP
from studio.jobs import Animation, Export, Import, Regeneration, Rewrite


def _bundle():
    from core.motion.checkpoint import load_default_model
    return load_default_model()


def busy_text(jobs: list, live: bool = False, regenerating: int = 0) -> str:
    """The status line for the worker's jobs (the running one first): what it does, or "Ready".
    `regenerating`: how many segments the pending regenerations touch."""
    if not jobs:
        return "Performing live" if live else "Ready"
    job = jobs[0]
    if isinstance(job, Import):
        text = f"Listening to {job.path.name}..."
    elif isinstance(job, Animation):
        text = "Animating the take..."
    elif isinstance(job, Export):
        text = f"Exporting {job.path.name}..."
    elif isinstance(job, Rewrite):
        text = f"Rewriting segment {job.index + 1}..."
    else:
        n = regenerating or 1
        text = f"Regenerating {n} segment{'' if n == 1 else 's'}..."
    more = len(jobs) - 1 if not isinstance(job, Regeneration) else sum(not isinstance(j, Regeneration) for j in jobs)
    return text + (f" (+{more} queued)" if more else "")


class BackgroundWork:
    def _regenerations(self) -> list[Regeneration]:
        return [j for j in self.worker.pending() if isinstance(j, Regeneration)]

    def _submit_stale(self) -> None:
        pending = {j.span for j in self._regenerations()}
        if self.doc.track is not None and any(span not in pending for span in self.doc.stale):
            self.curves.set_previous(FaceTrack(self.doc.track.fps, self.doc.track.data.copy()))
        for span in list(self.doc.stale):
            if span not in pending:
                self._jobs_started[span] = time.perf_counter()
                self.worker.submit(self.doc.regeneration(span, _bundle))
        self.timeline.set_segments(self._segment_views())
        self._show_busy()

    def generate_all(self) -> None:
        """Stage 2 over the whole take (after import, or for a project without motion)."""
        from core.pipeline import animate
        project = copy.deepcopy(self.doc.project)
        doc = self.doc

        def run(progress):
            return animate(project, _bundle(), callback=progress.step)
        self.worker.submit(Animation(run, owner=doc, segments=list(project.segments)))
        self._show_busy()

    def import_audio(self, path: str | Path) -> None:
        """Listen, instruct and animate in the background; segments show as soon as they exist."""
        from core.audio import load_audio
        from core.instruct import make_writer
        from core.pipeline import listen_and_instruct, make_project
        writer_name, url, model = self.writer, self.llm_url or None, self.llm_model or None
        baseline, language = self.baseline, self.language
        path = Path(path)

        def run(progress):
            audio = load_audio(path)
            result = listen_and_instruct(audio, writer=make_writer(writer_name, llm_url=url, llm_model=model),
                                         baseline=baseline, language=language,
                                         progress=lambda name, f: progress.report(0.9 * f))
            from core.listen.language import described
            said = described(result.analysis)
            heard = f", heard in {said}" if said else ""
            return make_project(audio, result, 30.0), list(audio.warnings) + list(result.warnings), heard
        self.set_project(Project(), None)          # what was open is gone (the user said so): not editable meanwhile
        self.start_page.set_listening(path.name)
        self.worker.submit(Import(run, path=path))
        self._show_busy()

    def rewrite_with_language_model(self, index: int) -> None:
        from core.instruct import make_writer
        seg = self.doc.project.segments[index]
        evidence, writer_name, doc = dict(seg.evidence), self.writer, self.doc
        url, model = self.llm_url or None, self.llm_model or None

        def run(progress):
            writer = make_writer(writer_name, llm_url=url, llm_model=model)
            return writer.write([evidence])[0], list(writer.warnings)
        self.worker.submit(Rewrite(run, owner=doc, index=index, start=seg.start))
        self._show_busy()

    def _job_finished(self, job, result) -> None:
        if isinstance(job, Regeneration):
            self._progress.pop(job.span, None)
            started = self._jobs_started.pop(job.span, None)
            if self.doc.apply_result(job.span, result) and started is not None:
                self.last_regeneration_s = time.perf_counter() - started
            self.timeline.set_segments(self._segment_views())
        elif isinstance(job, Animation) and job.owner is self.doc:
            if self.doc.replace_track(result, made_from=job.segments):
                self.statusBar().showMessage("A new performance of the whole take: the undo history starts again here",
                                             10000)
            self._segments_changed()
        elif isinstance(job, Import):
            project, warnings, heard = result
            self.start_page.set_listening(None)
            self.set_project(project, None)
            self.doc.undo_stack.resetClean()
            self._update_title()
            n = len(project.segments)
            self.statusBar().showMessage(f"{job.path.name}: {n} segment{'' if n == 1 else 's'}{heard}", 8000)
            if warnings:            # a clipped, cut-short or silent recording: said, without blocking
                self.import_warnings = QMessageBox(QMessageBox.Warning, APP, f"{job.path.name}:\n\n"
                                                   + "\n".join(f"- {w}" for w in warnings), parent=self)
                self.import_warnings.open()
        elif isinstance(job, Rewrite) and job.owner is self.doc:
            index = job.index
            instruction, warnings = result
            segs = self.doc.project.segments
            if index < len(segs) and segs[index].start == job.start:
                same = segs[index].instruction.text == instruction.text
                self.doc.set_instruction(index, instruction)
                # said either way, so a rewrite that comes back as it was does not look like nothing happened
                said = (f"Rewrite: {instruction.writer} wrote the same instruction again for segment {index + 1}"
                        if same else f"Rewrite: segment {index + 1} now reads \"{instruction.text}\"")
                self.statusBar().showMessage("; ".join([said, *warnings]), 15000)
            elif warnings:          # e.g. the endpoint was down and the rules wrote it
                self.statusBar().showMessage("Rewrite: " + "; ".join(warnings), 15000)
        self._show_busy()

    def _job_cancelled(self, job) -> None:
        if isinstance(job, Import):
            self.start_page.set_listening(None)
        if isinstance(job, Regeneration):
            self._progress.pop(job.span, None)
            self._jobs_started.pop(job.span, None)
            if self.doc.stale:              # an undo may have made its span stale again meanwhile
                self._regen_timer.start()
        self._show_busy()

    def _job_failed(self, job, message: str) -> None:
        if isinstance(job, Export):            # its handle says it (export())
            return
        self.statusBar().showMessage(f"The {job.name} failed: {message}", 15000)
        if isinstance(job, Import):
            self.start_page.set_listening(None)
            QMessageBox.warning(self, APP, f"The import of {job.path.name} failed:\n{message}")
        self._show_busy()

    def _job_progress(self, job, fraction: float) -> None:
        self.busy_bar.set_fraction(fraction)
        if isinstance(job, Regeneration):
            self._progress[job.span] = fraction
            now = time.perf_counter()
            if now - self._progress_drawn > 0.25:          # the lane repaints at most 4 times a second
                self._progress_drawn = now
                self.timeline.set_segments(self._segment_views())

    def _busy_changed(self, busy: bool) -> None:
        self._show_busy()
        if not busy:
            self.timeline.set_segments(self._segment_views())

    def _show_busy(self) -> None:
        """One line says what the worker does (or "Ready"), and the inspector says "regenerating"
        only while the segment it shows is."""
        jobs = self.worker.pending()
        doc = self.doc
        spans = [j.span for j in self._regenerations()]
        touched = sum(bool(doc.overlapping(i, spans)) for i in range(len(doc.project.segments))) if doc else 0
        self.busy_label.setText(busy_text(jobs, self._live, touched))
        self.busy_bar.setVisible(bool(jobs))
        self.inspector.set_busy(doc is not None and doc.selected >= 0 and doc.segment_state(doc.selected) == "stale")
