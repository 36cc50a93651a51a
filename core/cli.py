"""`avitalk`: the command line. Renders, exports, imports and inspects takes and projects."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import queue
import sys
from pathlib import Path

from core import limits
from core.audio import Audio, AudioError, load_audio
from core.export.options import ExportOptions, Excerpt, export_file
from core.fileio import NotReadable, read_regular
from core.instruct import DEFAULT_WRITER
from core.limits import Range, check_number
from core.project import (EMOTIONS, MAIN_TRACK, Project, ProjectError, SUFFIX, load_project, locked_project,
                          save_project)
from core.track import DEFAULT_FPS, FaceTrack

EXPORT_SUFFIXES = (".fbx", ".glb", ".csv")


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:           # --help, or a usage error already printed as one line
        return int(exc.code or 0)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        code = args.run(args) or 0
        sys.stdout.flush()              # here, so a closed pipe is seen here and not at exit
        return code
    except BrokenPipeError:
        # `avitalk info take.avtp | head -2`: the reader has what it wanted; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("avitalk: interrupted; nothing was written under the target name", file=sys.stderr)
        return 130
    except (CliError, AudioError, ProjectError, OSError, ValueError, RuntimeError, MemoryError) as exc:
        print(f"avitalk: error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "out of memory (the input is too large for this machine)"
    text = str(exc).replace("\r\n", " ").replace("\n", " ").replace("\r", " ") or type(exc).__name__
    return text if len(text) <= 600 else text[:597] + "..."


class _Parser(argparse.ArgumentParser):
    """argparse with the program's one-line errors: `avitalk: error: <problem>` and exit status 2."""

    def error(self, message: str):
        print(f"avitalk: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


def ranged(name: str, r: Range):
    """An argparse type: the option's text as a number within `r` (core.limits, the one range
    the loader also applies), else argparse's one-line error `argument NAME: must be ...`."""
    def parse(text: str):
        try:
            return check_number(name, int(text) if r.whole else float(text), r)
        except ValueError:
            shown = text if len(text) <= 40 else text[:37] + "..."
            raise argparse.ArgumentTypeError(f"must be {r.describe()}, got {shown!r}") from None
    parse.__name__ = name            # what argparse calls the type in its own messages
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="avitalk", description="AVI-Talking Studio: expressive 3D talking faces from speech.")
    sub = p.add_subparsers(metavar="COMMAND")

    c = sub.add_parser("demo", help="open the bundled demo project in the studio (with no display: render it to an MP4)")
    c.add_argument("-o", "--output", default="demo.mp4",
                   help="video file written when there is no display or with --headless (default demo.mp4)")
    c.add_argument("--headless", action="store_true", help="render the video even where a display is available")
    _size_args(c)
    c.set_defaults(run=cmd_demo)

    c = sub.add_parser("listen", help="listen to speech and write per-segment instructions into a project")
    c.add_argument("audio", help="the voice recording (WAV, FLAC, OGG, MP3, ...)")
    c.add_argument("-o", "--output", required=True, help=f"project file to write ({SUFFIX})")
    _stage1_args(c)
    c.set_defaults(run=cmd_listen)

    c = sub.add_parser("generate", help="both stages: speech to an animated project (and straight to files)")
    c.add_argument("audio", help="the voice recording (WAV, FLAC, OGG, MP3, ...)")
    c.add_argument("-o", "--output", required=True, help=f"project file to write ({SUFFIX})")
    _stage1_args(c)
    c.add_argument("--instruction", help="give every segment this instruction instead of the writer's")
    c.add_argument("--export", action="append", default=[], metavar="FILE",
                   help="also export the performance: .fbx, .glb or .csv (repeatable)")
    c.add_argument("--video", metavar="FILE.mp4", help="also render the performance to a video with the sound")
    _size_args(c)
    _stage2_args(c)
    c.add_argument("--seed", type=ranged("--seed", limits.SEED), default=0, help="variation of the whole take (default 0)")
    c.set_defaults(run=cmd_generate)

    c = sub.add_parser("batch", help="animate every line of a manifest (CSV or JSONL) into projects and exports, "
                                     "on all cores or on a Ray cluster; resumable")
    c.add_argument("manifest", help="CSV with a header or JSONL: audio (required), id, script, instruction, emotion, "
                                    "intensity, seed, exports")
    c.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                   help="folder for OUTDIR/<id>/<id>.avtp, the exports and OUTDIR/report.csv")
    c.add_argument("--exports", default="", metavar="LIST",
                   help="exports of the lines whose manifest names none, e.g. 'fbx;csv' (fbx, glb, csv, mp4; "
                        "default: the project only)")
    c.add_argument("--workers", type=ranged("--workers", limits.WORKERS), metavar="N",
                   help="worker processes, each loading the models once (default: the cores; with --ray ADDRESS: "
                        "the cluster's CPUs over --threads)")
    c.add_argument("--threads", type=ranged("--threads", limits.WORKERS), metavar="N",
                   help="threads of each worker (default: the cores over the workers; 1 on a Ray cluster)")
    c.add_argument("--ray", metavar="ADDRESS|local",
                   help="run the lines as Ray actors on the cluster at ADDRESS (host:port of its head), or on a Ray "
                        "instance started here ('local'); needs the 'batch' extra")
    _writer_args(c)
    _size_args(c)
    _stage2_args(c)
    c.set_defaults(run=cmd_batch)

    c = sub.add_parser("regen", help="regenerate one segment of a project; every other frame stays as it is")
    c.add_argument("project", help=f"the project ({SUFFIX}); rewritten in place unless -o is given")
    c.add_argument("--segment", type=int, required=True, metavar="N", help="segment number as `avitalk info` shows it (from 0)")
    c.add_argument("--instruction", help="the segment's new instruction text")
    c.add_argument("--emotion", choices=EMOTIONS, help="rewrite the instruction for this emotion")
    c.add_argument("--intensity", type=ranged("--intensity", limits.INTENSITY),
                   help="rewrite the instruction for this intensity (0..1)")
    c.add_argument("--seed", type=ranged("--seed", limits.SEED), help="the segment's variation seed (default: keep it)")
    c.add_argument("-o", "--output", help=f"write the result here instead ({SUFFIX})")
    _stage2_args(c, steps_default=None)
    c.set_defaults(run=cmd_regen)

    c = sub.add_parser("render", help="render a take (.csv or .avtp) to an MP4 with its sound")
    c.add_argument("take", help="Live Link Face CSV or .avtp project")
    c.add_argument("--audio", help="the take's sound (needed for a CSV; a project carries its own)")
    c.add_argument("-o", "--output", required=True, help="video file to write (.mp4)")
    _size_args(c)
    _export_args(c)
    c.set_defaults(run=cmd_render)

    c = sub.add_parser("export", help="export a take to FBX, GLB or Live Link CSV (by the output suffix)")
    c.add_argument("take", help="Live Link Face CSV or .avtp project")
    c.add_argument("-o", "--output", required=True, help="file to write: .fbx, .glb or .csv")
    _export_args(c)
    c.set_defaults(run=cmd_export)

    c = sub.add_parser("import", help="make a project from a captured take (Live Link Face CSV + audio)")
    c.add_argument("take", help="Live Link Face CSV")
    c.add_argument("--audio", help="the take's sound")
    c.add_argument("-o", "--output", required=True, help=f"project file to write ({SUFFIX})")
    c.add_argument("--fps", type=ranged("--fps", limits.FPS), default=DEFAULT_FPS, help="project frame rate")
    c.set_defaults(run=cmd_import)

    c = sub.add_parser("live", help="perform live: a microphone (or a recording played in real time) drives the "
                                    "face as the speech arrives, streamed to Unreal (Live Link) and VTuber apps (VMC)")
    c.add_argument("--input", metavar="DEVICE|FILE",
                   help="a sound input (name or index, see --list-devices; default: the system's) or an audio "
                        "file played in real time")
    c.add_argument("--instruction", help="the expression to perform (default: calm); while running, type a new "
                                         "one and press Enter to cross-fade to it")
    c.add_argument("--livelink", metavar="HOST[:PORT]", help="send Live Link Face packets (port 11111 if not given)")
    c.add_argument("--vmc", metavar="HOST[:PORT]", help="send VMC (OSC) to a VTuber app (port 39539 if not given)")
    c.add_argument("--vmc-capitalise", action="store_true",
                   help="VMC expression names capitalised (EyeBlinkLeft), for avatars named that way")
    c.add_argument("--subject", default="AVITalking", help="the Live Link subject name (default AVITalking)")
    c.add_argument("--record", metavar=f"TAKE{SUFFIX}", help="save the sound and the streamed motion as a project")
    c.add_argument("--seconds", type=ranged("--seconds", limits.LIVE_SECONDS), help="stop after this much audio")
    c.add_argument("--model", help="a motion-model checkpoint (file or folder) instead of the shipped one")
    c.add_argument("--list-devices", action="store_true", help="list the sound inputs and exit")
    c.set_defaults(run=cmd_live)

    c = sub.add_parser("info", help="describe a project")
    c.add_argument("project")
    c.add_argument("--json", action="store_true", help="print it as JSON for scripts")
    c.set_defaults(run=cmd_info)

    face = sub.add_parser("face", help="the built-in head").add_subparsers(metavar="ACTION")
    c = face.add_parser("sheet", help="one image with a tile per blendshape at full weight")
    c.add_argument("-o", "--output", default="sheet.png")
    c.set_defaults(run=cmd_face_sheet)
    return p


def _stage1_args(c: argparse.ArgumentParser) -> None:
    c.add_argument("--script", help="text file with what is said (aligned instead of the recognised words)")
    _writer_args(c)


def _language_arg(c: argparse.ArgumentParser) -> None:
    c.add_argument("--language", default="auto", type=_language,
                   help="the language spoken: auto (detect it; the default) or a Whisper code such as en, es, fr, "
                        "de, zh, ja (English uses the fast English model)")


def _writer_args(c: argparse.ArgumentParser) -> None:
    """Who writes the instructions and how the take is cut (listen, generate, batch)."""
    c.add_argument("--writer", default=DEFAULT_WRITER,
                   help=f"instruction writer: minilm (text emotion model + voice), smollm2 (the same plus the "
                        f"embedded language model), rules (lexicon + voice), or a local transformers model folder "
                        f"(default {DEFAULT_WRITER})")
    c.add_argument("--baseline", default="auto", type=_baseline,
                   help="the take's starting point, departed from only where the evidence is strong: auto "
                        "(calm by default), calm (a calm take), mild (nothing strong) or an emotion (happy, ...)")
    _language_arg(c)
    c.add_argument("--llm-url", help="an OpenAI-compatible chat endpoint (llama.cpp server, Ollama, vLLM)")
    c.add_argument("--llm-model", help="the model name to ask the endpoint for")
    c.add_argument("--min-segment", type=ranged("--min-segment", limits.SEGMENT_SECONDS), default=1.5,
                   help="shortest segment in seconds")
    c.add_argument("--max-segment", type=ranged("--max-segment", limits.SEGMENT_SECONDS), default=8.0,
                   help="longest segment in seconds")


def _language(value: str) -> str:
    from core.listen.language import check_language
    try:
        return check_language(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _baseline(value: str) -> str:
    from core.instruct import Baseline
    try:
        Baseline.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _check_segment_lengths(args) -> None:
    from core.listen.segment import check_lengths
    check_lengths(args.min_segment, args.max_segment)


def _stage2_args(c: argparse.ArgumentParser, steps_default: int | None = 8) -> None:
    keep = " (default: the project's)" if steps_default is None else ""
    c.add_argument("--model", help="a motion-model checkpoint (file or folder) instead of the shipped one")
    c.add_argument("--steps", type=ranged("--steps", limits.STEPS), default=steps_default,
                   help=f"sampling steps{keep or ' (default 8)'}")
    c.add_argument("--guidance", type=ranged("--guidance", limits.GUIDANCE), default=None if steps_default is None else 2.0,
                   help=f"instruction guidance strength{keep or ' (default 2.0)'}")


def _size_args(c: argparse.ArgumentParser) -> None:
    c.add_argument("--width", type=ranged("--width", limits.VIDEO_SIZE), default=1280,
                   help="video width in pixels (an odd one is rounded up to even; default 1280)")
    c.add_argument("--height", type=ranged("--height", limits.VIDEO_SIZE), default=720,
                   help="video height in pixels (an odd one is rounded up to even; default 720)")
    c.add_argument("--antialias", action="store_true", help="smooth edges (about 40%% slower)")


def _export_args(c: argparse.ArgumentParser) -> None:
    c.add_argument("--fps", type=ranged("--fps", limits.FPS),
                   help=f"frame rate to write, e.g. 24, 25, 30, 50 or 60 (default: the take's; a capture is read "
                        f"at {DEFAULT_FPS:g})")
    c.add_argument("--start", type=ranged("--start", limits.TAKE_TIME), metavar="SECONDS",
                   help="write the take from this time on (default: its beginning)")
    c.add_argument("--end", type=ranged("--end", limits.TAKE_TIME), metavar="SECONDS",
                   help="write the take up to this time, exclusive (default: its end)")


def _video_options(args, **more) -> ExportOptions:
    """The video options of a command with _size_args, plus `more` (frame rate, range)."""
    return ExportOptions(width=args.width, height=args.height, antialias=args.antialias, **more)


# --- loading takes ------------------------------------------------------------------------

def load_take(path: str, audio_path: str | None = None, fps: float | None = None) -> tuple[FaceTrack, Audio | None]:
    """The main track and the sound of a project or of a Live Link CSV (+ audio file); a CSV is
    read at `fps` (default 30), a project's track keeps its rate (an export resamples it)."""
    p = Path(path)
    if p.suffix.lower() == SUFFIX:
        project = load_project(p)
        track = project.main_track
        if track is None:
            raise CliError(f"{p}: the project has no animation yet (no '{MAIN_TRACK}' track)")
        audio = load_audio(audio_path) if audio_path else project.audio
        return track, audio
    if p.suffix.lower() == ".csv":
        from core.export.livelink import read_livelink_csv
        track = read_livelink_csv(p, fps=DEFAULT_FPS if fps is None else fps)
        return track, (load_audio(audio_path) if audio_path else None)
    raise CliError(f"{p}: expected a Live Link Face .csv or a {SUFFIX} project")


def _progress(desc: str):
    from tqdm import tqdm
    bar = tqdm(total=100, desc=desc, unit="%", leave=False, disable=None,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def update(fraction: float) -> None:
        bar.n = round(100 * fraction)
        bar.refresh()
    return bar, update


# --- commands -----------------------------------------------------------------------------

def cmd_render(args) -> None:
    options = _video_options(args, fps=args.fps, start=args.start, end=args.end)
    track, audio = load_take(args.take, args.audio, fps=args.fps)
    if audio is None:
        print("avitalk: note: no audio given; the video will be silent", file=sys.stderr)
    _render(track, audio, args.output, options)


def _count(n: int, noun: str) -> str:
    """"1 segment", "3 segments"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def cmd_demo(args) -> None:
    """With a display and the studio installed: open the user's copy of the demo project in it
    (this process becomes the studio). Otherwise render the demo's motion to a video."""
    from core.demo import demo_copy, demo_take
    display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    studio = importlib.util.find_spec("PySide6") is not None and importlib.util.find_spec("studio") is not None
    if display and studio and not args.headless:
        path = demo_copy()
        print(f"opening {path} (your copy of the demo project) in the studio", flush=True)
        os.execv(sys.executable, [sys.executable, "-m", "studio.app", str(path)])
    track, audio = demo_take()
    _render(track, audio, args.output, _video_options(args))
    if args.headless:
        return
    where = Path(args.output).resolve()
    if not display:
        print(f"no display here, so the demo project's motion was rendered to {where}; "
              "`avitalk-studio` needs a display (X11 or Wayland) to open it")
    else:
        print(f"the studio is not installed, so the demo project's motion was rendered to {where}; "
              "install it with `pip install -e '.[studio]'` (scripts/setup.sh does) and run `avitalk demo` again")


def _render(track: FaceTrack, audio: Audio | None, output: str, options: ExportOptions) -> None:
    from core.export.video import video_size
    if Path(output).suffix.lower() != ".mp4":
        raise CliError(f"{output}: the video is written as MP4; name it .mp4")
    width, height = video_size(options.width, options.height)
    bar, update = _progress(f"rendering {Path(output).name}")
    with bar:
        written = export_file(output, track, audio, options, update)
    print(f"wrote {output} ({written.track.frames} frames, {written.track.duration:.1f} s, {width}x{height})")


def cmd_export(args) -> None:
    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise CliError(f"{out}: unknown export format {suffix or '(no suffix)'}; use .fbx, .glb or .csv")
    options = ExportOptions(fps=args.fps, start=args.start, end=args.end)
    track, _ = load_take(args.take, fps=args.fps)
    written = export_track(track, out, options)
    print(f"wrote {out} ({written.track.frames} frames at {written.track.fps:g} fps)")


def export_track(track: FaceTrack, out: Path, options: ExportOptions | None = None) -> Excerpt:
    """Write `track` in the format the suffix of `out` names, with a progress bar."""
    bar, update = _progress(f"exporting {out.name}")
    with bar:
        return export_file(out, track, None, options, update)


def cmd_import(args) -> None:
    from core.export.livelink import read_livelink_csv
    out = Path(args.output)
    if out.suffix.lower() != SUFFIX:
        raise CliError(f"{out}: a project file is named {SUFFIX}")
    track = read_livelink_csv(args.take, fps=args.fps)
    audio = load_audio(args.audio) if args.audio else None
    for warning in audio.warnings if audio else []:
        print(f"avitalk: warning: {warning}", file=sys.stderr)
    project = Project(audio=audio, tracks={MAIN_TRACK: track})
    project.settings.fps = args.fps
    save_project(project, out)
    print(f"wrote {out} ({track.duration:.1f} s of animation{', with audio' if audio else ''})")


def _stage1(args, audio: Audio):
    from core.instruct import make_writer
    from core.pipeline import listen_and_instruct
    script = read_script(args.script) if args.script else None
    writer = make_writer(args.writer, llm_url=args.llm_url, llm_model=args.llm_model)
    bar, update = _progress(f"listening to {Path(args.audio).name}")
    with bar:
        result = listen_and_instruct(audio, script=script, writer=writer, min_length=args.min_segment,
                                     max_length=args.max_segment, baseline=args.baseline,
                                     language=args.language, progress=lambda name, f: update(f))
    for warning in audio.warnings + result.warnings:
        print(f"avitalk: warning: {warning}", file=sys.stderr)
    return result, {"writer": result.writer, "min_segment": args.min_segment, "max_segment": args.max_segment,
                    "script": bool(script), "baseline": args.baseline, "language": result.analysis.language}


def read_script(path: str | os.PathLike) -> str:
    """What is said, from a UTF-8 text file; refused, naming the file, if it is not a regular
    file or longer than any script of a take this program accepts (core.limits.MAX_SCRIPT_CHARS)."""
    too_long = (f"the script is longer than {limits.MAX_SCRIPT_CHARS:,} characters, what three hours "
                f"(the longest take) of fast speech holds")
    try:
        # UTF-8 takes at most 4 bytes a character
        text = read_regular(path, "a script (a text file)", 4 * limits.MAX_SCRIPT_CHARS, too_long).decode("utf-8")
    except NotReadable as exc:
        raise CliError(f"{path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise CliError(f"{path}: the script is not text in UTF-8 ({exc.reason} at byte {exc.start})") from None
    if len(text) > limits.MAX_SCRIPT_CHARS:
        raise CliError(f"{path}: {too_long}")
    return text


def _project_path(path: str) -> Path:
    out = Path(path)
    if out.suffix.lower() != SUFFIX:
        raise CliError(f"{out}: a project file is named {SUFFIX}")
    return out


def cmd_listen(args) -> None:
    from core.pipeline import make_project
    out = _project_path(args.output)
    _check_segment_lengths(args)
    audio = load_audio(args.audio)
    result, stage1 = _stage1(args, audio)
    project = make_project(audio, result, DEFAULT_FPS)
    project.settings.extra["stage1"] = stage1
    save_project(project, out)
    took = sum(result.timings.values())
    print(f"wrote {out}: {_count(len(result.segments), 'segment')} over {audio.duration:.1f} s {_heard(result)} "
          f"(listening {result.timings['listen']:.1f} s, instructions {result.timings['instruct']:.1f} s, "
          f"real-time factor {took / max(audio.duration, 1e-9):.2f})")


def _heard(stage1) -> str:
    """'in Spanish, detected at 0.94' (core.listen.language.described), or nothing."""
    from core.listen.language import described
    heard = described(stage1.analysis)
    return f"in {heard}" if heard else ""


def _load_model(path: str | None):
    from core.motion.checkpoint import load_default_model
    try:
        return load_default_model(path)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise CliError(f"cannot load the motion model: {exc}") from exc


def _sampling_bar(desc: str):
    bar, update = _progress(desc)
    return bar, (lambda i, n: update(i / n))


def cmd_generate(args) -> None:
    import time
    from core.pipeline import animate, make_project, user_instruction
    out = _project_path(args.output)
    targets = [Path(p) for p in args.export]
    for t in targets:
        if t.suffix.lower() not in EXPORT_SUFFIXES:
            raise CliError(f"{t}: unknown export format {t.suffix or '(no suffix)'}; use .fbx, .glb or .csv")
    if args.video and Path(args.video).suffix.lower() != ".mp4":
        raise CliError(f"{args.video}: the video is written as MP4; name it .mp4")
    _check_segment_lengths(args)
    override = user_instruction(args.instruction) if args.instruction is not None else None
    audio = load_audio(args.audio)      # bad audio is refused before the model is loaded
    bundle = _load_model(args.model)
    result, stage1 = _stage1(args, audio)
    project = make_project(audio, result, bundle.fps)
    project.settings.extra["stage1"] = stage1
    project.settings.sampling_steps, project.settings.guidance = args.steps, args.guidance
    if override is not None:
        for s in project.segments:
            s.instruction = override
    t0 = time.perf_counter()
    bar, callback = _sampling_bar("animating")
    with bar:
        project.tracks[MAIN_TRACK] = animate(project, bundle, seed=args.seed, callback=callback)
    took = time.perf_counter() - t0
    save_project(project, out)
    track = project.tracks[MAIN_TRACK]
    print(f"wrote {out}: {_count(len(project.segments), 'segment')}, {track.frames} frames over {audio.duration:.1f} s "
          f"{_heard(result)} (stage 1 {sum(result.timings.values()):.1f} s, stage 2 {took:.1f} s)")
    for t in targets:
        export_track(track, t)
        print(f"wrote {t}")
    if args.video:
        _render(track, audio, args.video, _video_options(args))


def cmd_regen(args) -> None:
    src = Path(args.project)
    out = _project_path(args.output) if args.output else src
    # Held from reading to saving: another `avitalk regen` of the same file waits and then edits
    # the result of this one, so neither edit is lost; anything else that replaced the file
    # meanwhile (the studio) makes the save refuse instead of overwriting it.
    with locked_project(src) as stamp:
        _regen(args, src, out, stamp)


def _regen(args, src: Path, out: Path, stamp) -> None:
    import time
    from core.instruct.wording import rewrite
    from core.pipeline import regenerate, user_instruction
    project = load_project(src)
    n = len(project.segments)
    if not 0 <= args.segment < n:
        raise CliError(f"{src}: no segment {args.segment}; the project has {n} (numbered 0 to {n - 1})"
                       if n else f"{src}: the project has no segments (run `avitalk listen` or `generate` first)")
    seg = project.segments[args.segment]
    if args.instruction is not None:
        seg.instruction = user_instruction(args.instruction)
    if args.emotion is not None or args.intensity is not None:
        seg.instruction = user_instruction(rewrite(seg.instruction.text, args.emotion, args.intensity))
    if args.seed is not None:
        seg.seed = args.seed
    if args.steps is not None:
        project.settings.sampling_steps = args.steps
    if args.guidance is not None:
        project.settings.guidance = args.guidance
    bundle = _load_model(args.model)
    t0 = time.perf_counter()
    bar, callback = _sampling_bar(f"segment {args.segment}")
    with bar:
        project.tracks[MAIN_TRACK] = regenerate(project, args.segment, bundle, callback=callback)
    took = time.perf_counter() - t0
    save_project(project, out, unchanged_since=stamp if out == src else None)
    print(f"wrote {out}: segment {args.segment} [{seg.start:.2f} - {seg.end:.2f} s] regenerated in {took:.2f} s "
          f"(seed {seg.seed}): {seg.instruction.text}")


def cmd_batch(args) -> int:
    import signal
    from core.batch import BatchSettings, run_batch
    from core.manifest import parse_exports, read_manifest
    # SIGINT (Ctrl+C, `kill -INT`) always stops a batch cleanly, also when it was started from a
    # shell that ignores SIGINT for background jobs (Python then installs no handler of its own)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        exports = parse_exports(args.exports)
    except ValueError as exc:
        raise CliError(f"--exports: {exc}") from exc
    _check_segment_lengths(args)
    if args.llm_url:
        from core.instruct.endpoint import check_url
        check_url(args.llm_url)
    manifest = read_manifest(args.manifest, default_exports=exports)
    for warning in manifest.warnings:
        print(f"avitalk: warning: {warning}", file=sys.stderr)
    settings = BatchSettings(writer=args.writer, llm_url=args.llm_url, llm_model=args.llm_model,
                             baseline=args.baseline, language=args.language, min_segment=args.min_segment,
                             max_segment=args.max_segment, steps=args.steps,
                             guidance=args.guidance, model=args.model, width=args.width, height=args.height,
                             antialias=args.antialias, threads=args.threads)
    summary = run_batch(manifest, args.output, settings, workers=args.workers, ray=args.ray,
                        log=lambda text: print(text, file=sys.stderr, flush=True))
    n, failed, pending = len(summary.results), summary.count("failed"), summary.count("pending")
    print(f"{summary.count('done')} done, {failed} failed, {summary.count('skipped')} skipped"
          f"{f', {pending} not run' if pending else ''} of {_count(n, 'line')} in {summary.wall:.1f} s "
          f"({summary.lines_per_minute:.1f} lines/min); report: {summary.report}")
    if summary.interrupted:
        print("avitalk: interrupted; run the same command again to go on (finished lines are skipped)",
              file=sys.stderr)
        return 128 + summary.stopped_by      # 130 after Ctrl+C (SIGINT), 143 after SIGTERM, 129 after SIGHUP
    return 1 if failed else 0


def cmd_live(args) -> int:
    from core.live.inputs import InputError, list_devices
    from core.live.senders import SenderError
    from core.live.session import DEFAULT_INSTRUCTION, LiveOptions, read_instructions, run_live
    if args.list_devices:
        print("\n".join(list_devices()) or "no sound inputs (PortAudio found none)")
        return 0
    if args.record:
        _project_path(args.record)
    if not (args.livelink or args.vmc or args.record):
        print("avitalk: warning: nothing is sent or kept; give --livelink, --vmc or --record", file=sys.stderr)
    options = LiveOptions(input=args.input, instruction=args.instruction or DEFAULT_INSTRUCTION,
                          livelink=args.livelink, vmc=args.vmc, vmc_capitalise=args.vmc_capitalise,
                          subject=args.subject, record=args.record, seconds=args.seconds, model=args.model)
    changes: queue.Queue = queue.Queue()
    if sys.stdin is not None and sys.stdin.isatty():
        read_instructions(sys.stdin, changes)

    def log(message: str) -> None:
        print(f"avitalk: {message}", file=sys.stderr)

    try:
        stats = run_live(options, instructions=changes, log=log)
    except (InputError, SenderError) as exc:
        raise CliError(str(exc)) from None
    s = stats.summary()
    print(f"live: {s['audio_s']:.1f} s of audio, {s['sent']} frames sent ({s['fps_out']} a second), latency "
          f"median {s['latency_ms_median']} ms, 95th percentile {s['latency_ms_p95']} ms; {s['skipped']} frames "
          f"held while behind; ended by {s['ended_by']}")
    for name, info in s["senders"].items():
        print(f"  {name} -> {info['to']}: {info['sent']} packets sent, {info['failed']} failed")
    return 130 if stats.ended_by == "interrupted" else 0


def cmd_info(args) -> None:
    summary = load_project(args.project).summary()
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    a = summary["audio"]
    print(f"{args.project}")
    print(f"  audio: {a['name']}, {a['duration']:.2f} s, {a['sample_rate']} Hz, {a['channels']} ch" if a else "  audio: none")
    for name, t in summary["tracks"].items():
        print(f"  track {name}: {t['frames']} frames at {t['fps']:g} fps ({t['duration']:.2f} s), "
              f"{len(t['active_blendshapes'])} active blendshapes")
    print(f"  segments: {len(summary['segments'])}")
    for k, s in enumerate(summary["segments"]):
        i = s["instruction"]
        print(f"    {k:>3} [{s['start']:7.2f} - {s['end']:7.2f}] {i['emotion']:<9} {i['intensity']:.2f} "
              f"({i['writer']}) {i['text']}")


def cmd_face_sheet(args) -> None:
    from core.face.sheet import make_sheet
    make_sheet(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    sys.exit(main())
