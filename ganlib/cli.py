"""The command line: ``python -m ganlib {train,sample,gif,interpolate,evaluate,export,doctor,translate} ...``.

Exit status: 0 on success; 2 for wrong arguments or bad input (one line naming the flag, and a pointer
to ``--help``), a run directory that holds another run, or a ``config.json`` that is truncated, corrupt
or of a newer run-directory schema (:class:`ganlib.errors.RunDirError`); 1 when a file or resource is
missing or cannot be read or written (data, a run's checkpoint, the output folder), when another process
is training the same ``--out`` (:class:`ganlib.errors.RunLockedError`: the message names its pid, host
and start time) or when training could not write its run directory (:class:`ganlib.errors.StorageError`:
no space left or a file-size limit, read-only, removed; the message names the file and the last good
checkpoint, and running the same command again resumes from it); 3 when training diverged; 4 when
``doctor`` finds a serious problem (1 when it cannot read the run); 130 when interrupted. Every error is one line on stderr; ``--debug`` shows the traceback.

``train`` is the only command that writes a run directory, and the only one that locks it (see
:mod:`ganlib.train.runs`); ``sample``, ``gif``, ``interpolate``, ``evaluate``, ``export`` and ``doctor`` read a
run that is being trained without waiting. A run directory that another process is training, or
whose ``config.json`` cannot be used, is refused before TensorFlow is imported.

Parsing, ``train --help``, the checks of every flag (``--out`` included) and ``gif`` import no TensorFlow:
the handlers import the library lazily. The commands that load a model import TensorFlow with its C++
start-up lines (oneDNN, CUDA probing on a CPU machine) kept off the terminal; ``--debug`` shows them,
and Python tracebacks. The train command's run-settings flags are generated from the
:class:`TrainConfig` field metadata (:func:`ganlib.config._field`): a new field with a ``flag`` gets its
flag here unedited.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import importlib
import math
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence

from ganlib import checks
from ganlib.checks import argparse_type
from ganlib.config import PRESETS, TrainConfig, get_config
from ganlib.data import DATA_DIR_ENV
from ganlib.errors import DataError, DivergenceError, RunDirError, RunReadError, TrainingInterrupted

COMMANDS = ("train", "sample", "gif", "interpolate", "evaluate", "export", "doctor", "translate")

# TrainConfig fields without a flag: the preset has its own, and the loop sets num_replicas from --strategy.
# Listed, not derived from the metadata, so that a new field without a flag fails tests/test_cli.py.
NO_FLAG_FIELDS = frozenset({"preset", "num_replicas"})

# The config-field metadata keys that are not add_argument keywords (see ganlib.config._field).
_METADATA_ONLY = ("help", "flag", "none_text")


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, a "did you mean" for a mistyped choice, and where to look.

    argparse prints the whole usage before the message; for a command with 60 flags that hides the
    one line that matters.
    """

    def error(self, message: str):  # noqa: D401 - argparse's hook
        match = re.search(r"invalid choice: '?([^' ]+)'? \(choose from (.+)\)", message)
        if match:
            choices = [c.strip(" '\"") for c in match.group(2).split(",")]
            close = difflib.get_close_matches(match.group(1), choices, n=1)
            if close:
                message += f"; did you mean '{close[0]}'?"
        self.exit(2, f"{self.prog}: error: {message}\nRun '{self.prog} --help' for the flags and their meaning.\n")


class _NoneText(str):
    """The text a flag accepts for a field's None (``--clip-value none``), told apart from "flag not given"."""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` except where the help text already explains a missing default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or isinstance(action.default, bool):
            return action.help or ""
        return super()._get_help_string(action)


_positive_int = argparse_type(checks.positive_int)
_non_negative_int = argparse_type(checks.non_negative_int)
_at_least_two = argparse_type(checks.int_at_least, minimum=2, note="a covariance needs 2 images")
_positive_float = argparse_type(checks.positive_number, float)
_non_negative_float = argparse_type(checks.non_negative_number, float)
_class_label = argparse_type(checks.class_label)


def _animation_options(parser: argparse.ArgumentParser, *, fps: float, hold: float) -> None:
    parser.add_argument("--fps", type=_positive_float, default=fps, help="frames per second")
    parser.add_argument("--loop", type=_non_negative_int, default=0, help="times a GIF plays; 0 loops forever")
    parser.add_argument("--hold", type=_non_negative_float, default=hold, help="seconds the last frame stays")
    parser.add_argument("--scale", type=_positive_float, default=1.0,
                        help="resize factor of every frame (integers keep pixels sharp)")


def _preset_default(field: dataclasses.Field) -> str:
    """The ``default:`` text of a config flag: the field's value in every preset."""
    if field.name == "train_size":
        return "all images"
    values = {name: PRESETS[name].get(field.name, field.default) for name in PRESETS}
    if len(set(map(repr, values.values()))) == 1:
        return f"the preset's ({next(iter(values.values()))} for every preset)"
    return "the preset's (" + ", ".join(f"{k}: {v}" for k, v in values.items()) + ")"


def _accepting_none_text(parse: Any, none_text: str) -> Any:
    """An argparse type that returns a :class:`_NoneText` for ``none_text`` (any case) and ``parse(text)`` else."""

    def parse_or_none(text: str) -> Any:
        return _NoneText(none_text) if text.strip().lower() == none_text else parse(text)

    parse_or_none.__name__ = getattr(parse, "__name__", "value")
    return parse_or_none


def add_config_arguments(group: argparse._ActionsContainer, config_class: type = TrainConfig) -> list[str]:
    """Add a flag for every field of ``config_class`` whose metadata names one; returns their dests.

    Each flag stores into the field's name with default None ("the preset's value"), so that a flag given
    overrides the preset and no other does; its help is the field's ``help`` followed by the presets'
    defaults. A field with a bool default becomes ``--flag/--no-flag``; ``none_text`` (``--clip-value
    none``) stands for the field's None. The other metadata (``type``, ``choices``, ``nargs``, ``metavar``,
    ``action``) goes to ``add_argument`` as it is.
    """
    dests = []
    for field in dataclasses.fields(config_class):
        meta = field.metadata
        if "flag" not in meta:
            continue
        kwargs = {k: v for k, v in meta.items() if k not in _METADATA_ONLY}
        if isinstance(field.default, bool):
            kwargs.setdefault("action", argparse.BooleanOptionalAction)
        if "none_text" in meta:
            kwargs["type"] = _accepting_none_text(kwargs.get("type", str), meta["none_text"])
        if "choices" in kwargs:
            kwargs["choices"] = list(kwargs["choices"])
        flags = (meta["flag"],) if isinstance(meta["flag"], str) else tuple(meta["flag"])
        help_text = f"{meta['help']} (default: {_preset_default(field)})".replace("%", "%%")
        group.add_argument(*flags, dest=field.name, default=None, help=help_text, **kwargs)
        dests.append(field.name)
    return dests


def _add_train(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    t = sub.add_parser(
        "train",
        help="train a GAN; re-running on the same --out resumes from its last checkpoint",
        description="Train a GAN and write sample grids, a training GIF, loss curves, history and checkpoints "
        "to --out. Re-running the same command resumes from the last checkpoint; raise --epochs to train longer.",
        formatter_class=_HelpFormatter,
    )
    t.add_argument("--preset", choices=list(PRESETS), default="dcgan",
                   help="objective, optimizer and architecture preset (see ganlib.config)")
    t.add_argument("--out", type=Path, default=None,
                   help="run directory (default: runs/PRESET-DATASET)")
    t.add_argument("--data-dir", default=None,
                   help=f"offline data directory holding DATASET/ with the four IDX .gz files "
                   f"(default: ${DATA_DIR_ENV}, else download through tensorflow-datasets)")
    # One flag per TrainConfig field, from its metadata (tests/test_cli.py checks that none is missing).
    add_config_arguments(t.add_argument_group("run settings (TrainConfig fields; defaults are the preset's)"))
    t.add_argument("--fps", type=_positive_float, default=8.0, help="frames per second of the training GIF")
    t.add_argument("--jit", action=argparse.BooleanOptionalAction, default=True,
                   help="compile the train step with XLA (faster on some CPUs, slower on others: measured in "
                   "docs/decisions/006-xla-and-precision.md and 014; default: on)")
    t.add_argument("--steps-per-execution", type=_positive_int, default=1,
                   help="train steps per tf.function call (fewer trips through Python; see benchmarks/README.md)")
    t.add_argument("--strategy", choices=["default", "mirrored", "tpu", "multi_worker"], default="default",
                   help="tf.distribute strategy: one device; every local GPU (MirroredStrategy); a TPU such as "
                   "Colab's (TPUStrategy); several machines described by TF_CONFIG (MultiWorkerMirroredStrategy). "
                   "--batch-size is the global batch, split over the replicas; XLA is off on several replicas")
    t.add_argument("--tpu", default=None,
                   help="TPU name or grpc:// address for --strategy tpu (default: found automatically, as on Colab)")
    t.add_argument("--checkpoint-every", type=_non_negative_float, default=300.0, metavar="SECONDS",
                   help="also save a checkpoint within an epoch every SECONDS of training (0: after every step; "
                   "Ctrl-C and SIGTERM save one too, then stop): a resume continues from it mid-epoch. The default's "
                   "cost: docs/decisions/018-within-epoch-checkpoints.md")
    t.add_argument("--deterministic", action="store_true",
                   help="enable TensorFlow op determinism (bit-identical reruns, slower)")
    t.add_argument("--overwrite", action="store_true",
                   help="delete a different run already in --out instead of refusing")
    t.add_argument("--no-progress", action="store_true", help="hide the per-epoch progress bar")
    t.add_argument("--tensorboard", action=argparse.BooleanOptionalAction, default=True,
                   help="write TensorBoard event files to OUT/tensorboard (view with: tensorboard --logdir runs)")
    t.set_defaults(handler=_train, subparser=t, check=_check_train, needs_tf=True)
    return t


def _add_sample(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    s = sub.add_parser(
        "sample",
        help="write a grid of new samples from a run's latest checkpoint",
        description="Load a run's latest checkpoint and write a grid of N new samples to a PNG.",
        formatter_class=_HelpFormatter,
    )
    s.add_argument("run_dir", type=Path, help="a run directory written by 'train'")
    s.add_argument("-n", "--num", type=_positive_int, default=64, help=f"number of samples, at most {MAX_SAMPLE_GRID}")
    s.add_argument("--seed", type=_non_negative_int, default=None,
                   help="seed of the latent vectors (default: fresh randomness)")
    s.add_argument("--digit", "--label", dest="digit", type=_class_label, default=None,
                   help="conditional runs: draw only this class (0-9); default: every class in turn, one per column")
    s.add_argument("--truncation", metavar="PSI", type=_positive_float, default=1.0,
                   help="the truncation trick: draw z ~ N(0, I) and scale it by PSI (ganlib.walks.truncate); "
                   "below 1: more typical samples, less variety; 1: none; above 1: more unusual samples")
    s.add_argument("--out", type=Path, default=None, help="PNG to write (default: RUN_DIR/samples.png)")
    s.set_defaults(handler=_sample, subparser=s, check=_check_sample, needs_tf=True)
    return s


def _add_gif(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    g = sub.add_parser(
        "gif",
        help="rebuild a run's training GIF (or an MP4) from its saved frames",
        description="Rebuild a run's training animation from its frames (frames/step_*.png: the fixed-z grid from "
        "step 0 on, see ganlib.train.frames) or, for a run without frames or with --per-epoch, from its per-epoch "
        "sample grids. The grid size is the run's --num-samples; --scale resizes it.",
        formatter_class=_HelpFormatter,
    )
    g.add_argument("run_dir", type=Path, help="a run directory written by 'train'")
    _animation_options(g, fps=8.0, hold=2.0)
    g.add_argument("--per-epoch", action="store_true", help="one frame per epoch (the sample grids)")
    g.add_argument("--out", type=Path, default=None,
                   help="file to write, .gif or .mp4 (default: RUN_DIR/training.gif)")
    g.set_defaults(handler=_gif, subparser=g, check=_check_animation, needs_tf=False)
    return g


def _add_interpolate(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    w = sub.add_parser(
        "interpolate",
        help="animate a walk through latent space (slerp), or a class morph of a conditional run",
        description="Load a run's latest checkpoint and write an animation of latent walks: a grid of --walks "
        "walks, each visiting --keys random latent vectors by spherical interpolation (slerp) and returning to "
        "the first. A conditional run draws walk i as class i % 10 (or --digit). --morph (conditional runs) "
        "instead keeps z fixed and moves the label from 0 to 1 to ... to 9 in the generator's label space.",
        formatter_class=_HelpFormatter,
    )
    w.add_argument("run_dir", type=Path, help="a run directory written by 'train'")
    w.add_argument("--out", type=Path, default=None,
                   help="file to write, .gif or .mp4 (default: RUN_DIR/walk.gif, or RUN_DIR/morph.gif with --morph)")
    w.add_argument("--walks", type=_positive_int, default=16, help="walks side by side (the grid's tiles)")
    w.add_argument("--keys", type=_at_least_two, default=4, help="random latent vectors each walk visits")
    w.add_argument("--frames", type=_positive_int, default=24,
                   help="frames from one latent vector (or class) to the next")
    w.add_argument("--seed", type=_non_negative_int, default=0, help="seed of the latent vectors")
    w.add_argument("--digit", "--label", dest="digit", type=_class_label, default=None,
                   help="conditional runs: every walk draws this class (default: walk i draws class i %% 10)")
    w.add_argument("--morph", action="store_true",
                   help="conditional runs: the class morph 0 -> 1 -> ... -> 9 with z held fixed")
    w.add_argument("--lerp", action="store_true", help="linear instead of spherical interpolation (to compare)")
    _animation_options(w, fps=12.0, hold=0.0)
    w.set_defaults(handler=_interpolate, subparser=w, check=_check_animation, needs_tf=True)
    return w


def _add_evaluate(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from ganlib.metrics import MEMORISATION_SAMPLES, METRICS  # numpy only: no TensorFlow at parse time

    e = sub.add_parser(
        "evaluate",
        help="measure sample quality against the test split: FCD, precision/recall, density/coverage, KID, "
        "memorisation",
        description="Generate N images from a run's latest checkpoint (or a given checkpoint) and compare them "
        "with the test split through ganlib's shipped classifier (its 128-d features): Frechet classifier "
        "distance (FCD; NOT comparable with Inception-based FID), classifier score and mode coverage ('fcd'), "
        "improved precision and recall ('pr'), density and coverage ('dc'), KID ('kid'), and a memorisation "
        "check against every training image ('memorisation', with a figure of the samples nearest to a "
        "training image). Prints a summary and writes every number as JSON.",
        formatter_class=_HelpFormatter,
    )
    e.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                   help="a run directory written by 'train' (its latest checkpoint is evaluated) or a "
                   "checkpoint path such as RUN_DIR/checkpoints/ckpt-3")
    e.add_argument("--num-samples", type=_at_least_two, default=10_000,
                   help="images to generate (the README's figures use 10,000; 'pr' needs at least 4)")
    e.add_argument("--metrics", nargs="+", choices=METRICS, default=list(METRICS), metavar="METRIC",
                   help=f"metric groups to compute, any of: {' '.join(METRICS)}")
    e.add_argument("--memorisation-samples", type=_positive_int, default=MEMORISATION_SAMPLES,
                   help="generated images (and as many test images) searched against every training image")
    e.add_argument("--data-dir", default=None,
                   help=f"offline data directory holding DATASET/ with the test and training IDX files "
                   f"(default: ${DATA_DIR_ENV}, else download through tensorflow-datasets)")
    e.add_argument("--seed", type=_non_negative_int, default=0, help="seed of the latent vectors")
    e.add_argument("--cas", action="store_true",
                   help="also the Classification Accuracy Score of a conditional run (Ravuri & Vinyals 2019): a "
                   "classifier trained for a fixed 5 epochs on the generated images and the classes they were "
                   "asked for, tested on the 10,000 test images (ganlib.metrics.cas)")
    e.add_argument("--out", type=Path, default=None, help="JSON to write (default: RUN_DIR/metrics.json)")
    e.add_argument("--figure", type=Path, default=None,
                   help="PNG of the samples nearest to a training image, written with 'memorisation' "
                   "(default: nearest_neighbours.png beside the JSON)")
    e.set_defaults(handler=_evaluate, subparser=e, check=_check_evaluate, needs_tf=True)
    return e


def _add_export(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    x = sub.add_parser(
        "export",
        help="save a run's generator as a .keras file and a SavedModel, loadable without ganlib",
        description="Save the generator of a run's latest checkpoint (or of a given checkpoint) as a Keras file, "
        "loadable with keras.models.load_model in a program that does not install ganlib, and as a TensorFlow "
        "SavedModel for serving (tf.saved_model.load(DIR).serve(z)). Both map latent vectors z [N, LATENT_DIM] "
        "(and labels [N] for a conditional run) to images [N, 28, 28, 1] in [-1, 1].",
        formatter_class=_HelpFormatter,
    )
    x.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                   help="a run directory written by 'train' or a checkpoint path such as RUN_DIR/checkpoints/ckpt-3")
    x.add_argument("--out", type=Path, default=None,
                   help="the .keras file to write (default: RUN_DIR/export/generator.keras)")
    x.add_argument("--saved-model", type=Path, default=None,
                   help="the SavedModel directory to write (default: beside --out, STEM_savedmodel, e.g. "
                   "generator_savedmodel)")
    x.add_argument("--no-saved-model", action="store_true", help="write only the .keras file")
    x.set_defaults(handler=_export, subparser=x, check=_check_export, needs_tf=True)
    return x


DOCTOR_EXIT_STATUSES = ("exit status: 0 healthy or warnings only; 4 a serious finding (divergence, a discriminator "
                        "that has won, a vanished generator gradient, mode collapse, a label ignored); 1 the run "
                        "cannot be read (not a ganlib run, a corrupt config.json); 2 a bad argument")


def _add_doctor(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    d = sub.add_parser(
        "doctor",
        help="say what is wrong with a training run, with evidence and a remedy",
        description="Read a run directory (its config, the training data's range, every step's losses and health "
        "signals, the history's FCD) and, unless --samples 0, images drawn from its latest checkpoint and "
        "classified by the shipped classifier; report each problem found (divergence, a discriminator that wins, "
        "a vanishing generator gradient, oscillation, mode collapse, a label ignored, images in the wrong range, a "
        "quality plateau, Keras's default optimizer settings) with its evidence, a remedy and the section of "
        "notebooks/12_troubleshooting.ipynb that teaches it. A run being trained can be read (no lock is taken).",
        epilog=DOCTOR_EXIT_STATUSES,
        formatter_class=_HelpFormatter,
    )
    d.add_argument("run_dir", type=Path, metavar="RUN", help="a run directory written by 'train'")
    d.add_argument("--samples", type=_non_negative_int, default=2000,
                   help="images to draw from the latest checkpoint and classify (0: none; signals and config only, "
                   "without TensorFlow)")
    d.add_argument("--json", action="store_true", help="print the report as JSON instead of text")
    d.add_argument("--data-dir", default=None,
                   help="offline data directory (no check of this version needs the data: the run records its "
                   "range in data.json)")
    d.add_argument("--seed", type=_non_negative_int, default=0, help="seed of the samples' latent vectors")
    d.set_defaults(handler=_doctor, subparser=d, check=_check_doctor, needs_tf=True)
    return d


# The largest grid 'sample' draws: 32 x 32 tiles of 28 pixels, about 900 pixels wide; more is unreadable.
MAX_SAMPLE_GRID = 1024
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".pdf", ".svg")  # what the grid's matplotlib figure can be saved as
ANIMATION_SUFFIXES = (".gif", ".mp4")


def check_output(path: Path | None, flag: str, suffixes: Sequence[str] = (), *, directory: bool = False) -> None:
    """Refuse an output path before anything is computed: a wrong suffix, a missing or read-only folder.

    Args:
        path: the path given (None: the command's default, not checked).
        flag: the flag it came from, named in the message (``--out``).
        suffixes: the accepted file suffixes (lower case); empty: any.
        directory: the path is a directory that the command creates (its parents may be missing).

    Raises:
        ValueError: the suffix is not one of ``suffixes``, or the path is an existing directory (for a file)
            or an existing file (for a directory).
        FileNotFoundError: the folder that would hold a file does not exist.
        PermissionError: the folder that would hold it (or its nearest existing ancestor) is not writable.
    """
    if path is None:
        return
    if suffixes and path.suffix.lower() not in suffixes:
        raise ValueError(f"{flag} must name a {' or '.join(suffixes)} file. Received: {flag} {path}")
    if directory:
        if path.exists() and not path.is_dir():
            raise ValueError(f"{flag} must be a run directory; {path} is a file. Received: {flag} {path}")
        folder = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    else:
        if path.is_dir():
            raise ValueError(f"{flag} must name a file; {path} is a directory. Received: {flag} {path}")
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise FileNotFoundError(f"The folder of {flag} does not exist: {folder} (create it first). "
                                    f"Received: {flag} {path}")
    if folder.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"Cannot write to {folder}: the folder is not writable. Received: {flag} {path}")


def _check_train(args: argparse.Namespace) -> None:
    # An invalid combination of settings is refused before TensorFlow is imported; _train uses the config made here.
    config = args.config = train_config(args)
    check_output(args.out, "--out", directory=True)
    from ganlib.train.runs import precheck_run_dir

    precheck_run_dir(_train_out(args, config), overwrite=args.overwrite)  # locked, or an unusable config.json


def _train_out(args: argparse.Namespace, config: TrainConfig) -> Path:
    return args.out if args.out is not None else Path("runs") / f"{args.preset}-{config.dataset}"


def _check_sample(args: argparse.Namespace) -> None:
    if args.num > MAX_SAMPLE_GRID:
        raise ValueError(f"-n/--num must be at most {MAX_SAMPLE_GRID} (a 32 x 32 grid; a larger one is unreadable; "
                         "for many samples use 'evaluate' or ganlib.train.state.GAN.generate). "
                         f"Received: -n {args.num}")
    if not math.isfinite(args.truncation):
        raise ValueError("--truncation must be a finite positive number (the factor psi that scales z; 1: no "
                         f"truncation). Received: --truncation {args.truncation}")
    check_output(args.out, "--out", IMAGE_SUFFIXES)


def _check_animation(args: argparse.Namespace) -> None:
    check_output(args.out, "--out", ANIMATION_SUFFIXES)


def _check_evaluate(args: argparse.Namespace) -> None:
    check_output(args.out, "--out", (".json",))
    check_output(args.figure, "--figure", IMAGE_SUFFIXES)


def _check_doctor(args: argparse.Namespace) -> None:
    # RUN is checked before TensorFlow is imported; with --samples 0 it is never imported.
    if not args.run_dir.exists():
        raise ValueError(f"RUN must be a run directory written by 'train'; {args.run_dir} does not exist. "
                         f"Expected an existing directory. Received: RUN {args.run_dir}")
    if not args.run_dir.is_dir():
        raise ValueError(f"RUN must be a run directory written by 'train'; {args.run_dir} is a file. "
                         f"Expected a directory. Received: RUN {args.run_dir}")
    from ganlib.doctor.evidence import check_run_dir

    try:
        check_run_dir(args.run_dir)
    except RunDirError as err:
        raise RunReadError(f"{err} Expected a run directory written by 'train'. Received: RUN {args.run_dir}") from err
    args.needs_tf = args.samples > 0


def _check_export(args: argparse.Namespace) -> None:
    check_output(args.out, "--out", (".keras",))
    check_output(args.saved_model, "--saved-model", directory=True)


def _add_translate(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    t = sub.add_parser(
        "translate",
        help="apply a trained translator (a pix2pix or cyclegan run) to images",
        description="Load a translation run's latest checkpoint and apply its generator to images: a pix2pix run "
        "completes digits (its mask is applied to digits [N, 28, 28(, 1)]; masked inputs [N, 28, 28, 2] are used "
        "as given), a cyclegan run translates thin strokes to bold (--direction forward, G) or bold to thin "
        "(backward, F). Writes a grid PNG (a row of inputs above a row of outputs) and the outputs as an .npy "
        "file beside it, float32 [N, 28, 28, 1] in [-1, 1].",
        formatter_class=_HelpFormatter,
    )
    t.add_argument("run_dir", type=Path, metavar="RUN", help="a run directory written by 'train --preset pix2pix' "
                   "or 'train --preset cyclegan'")
    t.add_argument("--input", type=Path, required=True, metavar="FILE.npy|FOLDER",
                   help="a .npy file of images (float in [-1, 1] or uint8 0..255) or a folder of 28x28 grey PNGs")
    t.add_argument("--out", type=Path, required=True, metavar="OUT.png",
                   help="the grid PNG to write; the outputs go to the same name with .npy")
    t.add_argument("--seed", type=_non_negative_int, default=0,
                   help="pix2pix with a square mask: seed of the masks' positions")
    t.add_argument("--direction", choices=("forward", "backward"), default="forward",
                   help="cyclegan: forward applies G (X -> Y), backward F (Y -> X)")
    t.set_defaults(handler=_translate, subparser=t, check=_check_translate, needs_tf=True)
    return t


# The largest grid 'translate' draws (the .npy holds every output).
MAX_TRANSLATE_GRID = 64


def read_translation_input(path: Path, flag: str = "--input"):
    """The array of a ``.npy`` file or the stacked 28x28 grey PNGs of a folder (sorted by name).

    Raises:
        ValueError: a missing path, a file that is not ``.npy`` or cannot be read as one, a folder
            without PNGs or with a PNG that is not 28x28 grey; the message names ``flag``.
    """
    import numpy as np

    expected = "a .npy file or a folder of 28x28 grey PNG images"
    if not path.exists():
        raise ValueError(f"{flag}: {path} does not exist. Expected {expected}. Received: {flag} {path}")
    if path.is_dir():
        import imageio.v3 as iio

        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".png")
        if not files:
            raise ValueError(f"{flag}: the folder {path} holds no .png file. Expected {expected}. "
                             f"Received: {flag} {path}")
        images = []
        for f in files:
            try:
                image = np.asarray(iio.imread(f))
            except Exception as err:  # noqa: BLE001 - whatever the PNG reader raises, the file is unreadable
                raise ValueError(f"{flag}: {f} cannot be read as a PNG ({type(err).__name__}). Received: {flag} "
                                 f"{path}") from err
            if image.ndim == 3 and image.shape[-1] in (1, 2, 3, 4):
                image = image[..., 0] if image.shape[-1] <= 2 else image[..., :3].mean(axis=-1).astype(image.dtype)
            if image.shape != (28, 28):
                raise ValueError(f"{flag}: expected 28x28 grey PNG images. Received: {f.name} of shape "
                                 f"{list(image.shape)}")
            images.append(image.astype(np.uint8) if image.dtype != np.uint8 else image)
        return np.stack(images)
    if path.suffix.lower() != ".npy":
        raise ValueError(f"{flag}: expected {expected}. Received: {flag} {path} (suffix {path.suffix or 'none'})")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(f"{flag}: {path} cannot be read as a .npy array ({err}). Received: {flag} {path}") from err


def _check_translate(args: argparse.Namespace) -> None:
    # Everything is checked before TensorFlow is imported and before anything is written.
    from ganlib.train.family import family_for
    from ganlib.train.runs import RunDir, load_config

    check_output(args.out, "--out", (".png",))
    if not args.run_dir.is_dir():
        what = "does not exist" if not args.run_dir.exists() else "is a file"
        raise ValueError(f"RUN must be a run directory written by 'train'; {args.run_dir} {what}. "
                         f"Received: RUN {args.run_dir}")
    config = load_config(RunDir(args.run_dir))
    family = family_for(config)
    if not callable(getattr(family, "translation_inputs", None)):
        raise ValueError(f"RUN must be a translation run (trained with --preset pix2pix or --preset cyclegan); "
                         f"{args.run_dir} is a generation run of the {family.name} family (preset "
                         f"{config.preset}): use 'sample' for it. Received: RUN {args.run_dir}")
    args.family = family
    args.inputs = family.translation_inputs(read_translation_input(args.input), flag="--input", seed=args.seed)


def _translate(args: argparse.Namespace) -> int:
    import numpy as np

    from ganlib.train.runs import atomic_write
    from ganlib.train.state import load_run
    from ganlib.viz import save_image_grid

    gan, run = load_run(args.run_dir)
    outputs = gan.family.translate(gan, args.inputs, direction=args.direction)
    shown = min(len(outputs), MAX_TRANSLATE_GRID)
    cols = min(shown, 8)
    padded = -(-shown // cols) * cols  # a short last row is filled with the background
    blank = -np.ones((padded - shown, 28, 28, 1), np.float32)
    inputs = np.concatenate([gan.family.shown_inputs(args.inputs)[:shown], blank])
    shown_outputs = np.concatenate([outputs[:shown], blank])
    grid = np.concatenate([part for i in range(0, padded, cols)
                           for part in (inputs[i:i + cols], shown_outputs[i:i + cols])])
    npy = args.out.with_suffix(".npy")

    def save_npy(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.save(f, outputs)

    atomic_write(npy, save_npy)
    save_image_grid(grid, args.out, cols=cols,
                    title=f"{gan.config.preset} - epoch {int(gan.epoch.numpy())}: inputs above outputs")
    print(f"{run.root} (epoch {int(gan.epoch.numpy())}): {len(outputs)} images translated; wrote {args.out} "
          f"(the first {shown}) and {npy}")
    return 0


# TensorFlow's C++ start-up lines that say nothing is wrong: oneDNN's round-off notice, the CPU-feature note, and
# a CPU-only machine's CUDA probing (the "failed call to cuInit" error among them).
_BENIGN_START_UP = re.compile(
    r"All log messages before absl::InitializeLog|oneDNN custom operations|cudart_stub|cuda_platform|cuInit|"
    r"cuda_executor|cuda_diagnostics|cpu_feature_guard|To enable the following instructions|rebuild TensorFlow|"
    r"Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered|"
    r"TF-TRT Warning|dso_loader|Could not find cuda drivers"
)


def import_tensorflow(debug: bool = False) -> None:
    """Import TensorFlow and find its devices, keeping its C++ start-up lines off the terminal unless ``debug``.

    Those lines are written to the process's file descriptor 2 before TensorFlow's own log level
    applies (``TF_CPP_MIN_LOG_LEVEL`` does not hide them), so the descriptor is pointed at a
    temporary file meanwhile; afterwards every captured line that is not a known, harmless start-up
    notice (:data:`_BENIGN_START_UP`) is written to stderr, so a real error stays visible.
    """
    if debug:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
        import tensorflow as tf

        tf.config.list_physical_devices()
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
            importlib.import_module("keras")  # its start-up lines too
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        lines = captured.read().decode("utf-8", "replace").splitlines()
    kept = [line for line in lines if line.strip() and not _BENIGN_START_UP.search(line)]
    if kept:
        print("\n".join(kept), file=sys.stderr)


def with_flags(message: str) -> str:
    """``message`` with the train flag of every :class:`TrainConfig` field it names as ``field=``, appended."""
    flags = {f.name: f.metadata["flag"] for f in dataclasses.fields(TrainConfig) if "flag" in f.metadata}
    named = [n for n in dict.fromkeys(re.findall(r"\b([a-z][a-z0-9_]*)=", message)) if n in flags]
    if not named:
        return message
    def flag(n):
        f = flags[n]
        return f if isinstance(f, str) else f[0]
    return message + " (flags: " + ", ".join(f"{n} is {flag(n)}" for n in named) + ")"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m ganlib``: one subparser per command, each built by its ``_add_*``."""
    parser = _Parser(
        prog="python -m ganlib",
        description="Train GANs on MNIST-style data, draw samples, build training GIFs and measure sample quality.",
    )
    parser.add_argument("--debug", action="store_true",
                        help="show TensorFlow's start-up log lines and the Python traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(COMMANDS) + "}",
                                parser_class=_Parser)
    for add in (_add_train, _add_sample, _add_gif, _add_interpolate, _add_evaluate, _add_export, _add_doctor,
                _add_translate):
        # --debug after the command too (``sample RUN --debug``); not given there, the top-level value stands
        add(sub).add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                              help="show TensorFlow's start-up log lines and the Python traceback of an error")
    return parser


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` of parsed ``train`` arguments: the preset's values, overridden by every flag given.

    Raises:
        ValueError: an invalid combination (see :func:`ganlib.config.get_config`).
    """
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
                 if f.name not in NO_FLAG_FIELDS and getattr(args, f.name, None) is not None}
    overrides = {k: None if isinstance(v, _NoneText) else v for k, v in overrides.items()}
    return get_config(args.preset, **overrides)


def _train(args: argparse.Namespace) -> int:
    config = args.config if getattr(args, "config", None) is not None else train_config(args)
    out = _train_out(args, config)

    import tensorflow as tf

    from ganlib.train import train

    if args.deterministic:
        tf.config.experimental.enable_op_determinism()
    from ganlib.train.distribute import get_strategy

    history = train(config, out, data_dir=args.data_dir, overwrite=args.overwrite, progress=not args.no_progress,
                    jit_compile=args.jit, steps_per_execution=args.steps_per_execution,
                    strategy=get_strategy(args.strategy, tpu=args.tpu), gif_fps=args.fps,
                    tensorboard=args.tensorboard, checkpoint_every=args.checkpoint_every)
    last = history[-1]
    print(f"Done: {int(last['epoch'])} epochs, last epoch d_loss={last['d_loss']:.3f} g_loss={last['g_loss']:.3f} "
          f"({last['seconds']:.0f} s, {last['images_per_second']:.0f} images/s).")
    print(f"GIF: {out / 'training.gif'}   loss plot: {out / 'losses.png'}   samples: {out / 'samples'}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    import numpy as np

    from ganlib.conditional import balanced_labels
    from ganlib.data import latent_batch
    from ganlib.train.state import load_run
    from ganlib.viz import save_image_grid
    from ganlib.walks import truncate

    gan, run = load_run(args.run_dir)
    z = latent_batch(args.num, gan.config.latent_dim, args.seed)
    cols, title = None, f"{gan.config.preset} - epoch {int(gan.epoch.numpy())}"
    if args.truncation != 1.0:
        z, title = truncate(z, args.truncation).astype(np.float32), f"{title} - truncation {args.truncation:g}"
    if args.digit is not None:
        if not gan.config.conditional:
            raise ValueError(f"--digit needs a conditional run (trained with --conditional); {run.root} is "
                             f"unconditional. Received: --digit {args.digit}")
        labels, title = np.full(args.num, args.digit), f"{title} - class {args.digit}"
    elif gan.config.conditional:
        labels, cols = balanced_labels(args.num), min(args.num, 10)  # one class per column
    else:
        labels = None
    out = args.out if args.out is not None else run.root / "samples.png"
    save_image_grid(gan.generate(z, labels=labels), out, title=title, cols=cols)
    truncated = f", z scaled by {args.truncation:g}" if args.truncation != 1.0 else ""
    print(f"Wrote {args.num} samples of the {gan.sample_source}{truncated} to {out}")
    return 0


def _gif(args: argparse.Namespace) -> int:
    from ganlib.train.runs import RunDir
    from ganlib.viz import save_animation

    run = RunDir(args.run_dir)
    frames = run.sample_grids() if args.per_epoch else (run.frame_files() or run.sample_grids())
    if not frames:
        raise ValueError(f"No frames in {run.frames} and no sample grids in {run.samples}: expected files written "
                         f"by 'train'. Received: {run.root}")
    out = args.out if args.out is not None else run.gif
    save_animation(frames, out, fps=args.fps, loop=args.loop, hold_last=args.hold, scale=args.scale)
    print(f"Wrote {out} ({len(frames)} frames at {args.fps:g} fps, {out.stat().st_size / 1e6:.2f} MB)")
    return 0


def _interpolate(args: argparse.Namespace) -> int:
    import math

    from ganlib.train.state import load_run
    from ganlib.viz import labelled_grid, save_animation
    from ganlib.walks import class_morph, walk_frames

    gan, run = load_run(args.run_dir)
    if args.morph:
        if args.digit is not None:
            raise ValueError(f"--morph visits every class; --digit chooses one. Received: --morph --digit {args.digit}")
        images, position = class_morph(gan, frames_per_class=args.frames, num_columns=args.walks, seed=args.seed)
        cols = min(args.walks, 8)
        labels = [_morph_label(p) for p in position]
    else:
        if args.digit is not None and not gan.config.conditional:
            raise ValueError(f"--digit needs a conditional run (trained with --conditional); {run.root} is "
                             f"unconditional. Received: --digit {args.digit}")
        digits = None if args.digit is None else [args.digit] * args.walks
        images = walk_frames(gan, num_walks=args.walks, num_keys=args.keys, frames_per_segment=args.frames,
                             seed=args.seed, labels=digits, spherical=not args.lerp)
        cols = math.ceil(math.sqrt(args.walks))
        labels = [""] * len(images)
    frames = [labelled_grid(step, label=label, cols=cols, scale=2) for step, label in zip(images, labels)]
    default = "morph.gif" if args.morph else "walk.gif"
    out = args.out if args.out is not None else run.root / default
    save_animation(frames, out, fps=args.fps, loop=args.loop, hold_last=args.hold, scale=args.scale)
    print(f"Wrote {out} ({len(frames)} frames at {args.fps:g} fps, {out.stat().st_size / 1e6:.2f} MB)")
    return 0


def _morph_label(position: float) -> str:
    start = int(position)
    t = position - start
    return f"class {start}" if t == 0 else f"class {start} -> {start + 1}  (t = {t:.2f})"


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from ganlib.metrics import evaluate_run, training_images
    from ganlib.train.runs import atomic_write_text
    from ganlib.train.state import load_run

    gan, run = load_run(args.run_dir)
    extra = {}
    if args.cas:
        # Refused before any sample is drawn: CAS needs the class each sample was asked for.
        if gan.family.evaluation_labels(10) is None:
            raise ValueError(
                "--cas trains a classifier on generated images labelled with the class each was asked for, so it "
                "needs a conditional run (trained with --conditional). Drop --cas for this run. Received: "
                f"{args.run_dir}, an unconditional run")
        extra["cas"] = True
    metrics, images = evaluate_run(gan, num_samples=args.num_samples, seed=args.seed, metrics=args.metrics,
                                   data_dir=args.data_dir, memorisation_samples=args.memorisation_samples, **extra)
    metrics["run_dir"] = str(run.root)
    out = args.out if args.out is not None else run.root / "metrics.json"
    written = [out]
    if "memorisation" in metrics["metrics"]:
        from ganlib.viz import save_nearest_neighbours

        figure = args.figure if args.figure is not None else out.with_name("nearest_neighbours.png")
        closest = metrics["memorisation_closest"]
        train = training_images(gan.config.dataset, data_dir=args.data_dir)
        save_nearest_neighbours(
            images[[c["sample"] for c in closest]],
            {"nearest in pixels": train[[c["train_index"] for c in closest]],
             "nearest in features": train[[c["train_index_features"] for c in closest]]},
            figure,
            captions={"nearest in pixels": [f"{c['distance']:.2f}" for c in closest],
                      "nearest in features": [f"{c['distance_features']:.2f}" for c in closest]},
            title=f"{metrics['preset']}, epoch {metrics['epoch']}: the {len(closest)} samples nearest to a "
            f"training image (of {metrics['memorisation_samples']})",
        )
        metrics["figure"] = str(figure)
        written.append(figure)
    atomic_write_text(out, json.dumps(metrics, indent=2) + "\n")
    print(f"{metrics['checkpoint']} (epoch {metrics['epoch']}, {metrics['num_samples']} samples, "
          f"seed {metrics['seed']}), against the test split:")
    print("\n".join(f"  {line}" for line in _summary_lines(metrics)))
    if "class_accuracy" in metrics:
        per_class = "  ".join(f"{c}: {a:.1%}" for c, a in metrics["per_class_accuracy"].items())
        print(f"  class accuracy {metrics['class_accuracy']:.2%} (samples classified as the class asked for; "
              f"{metrics['num_samples'] // 10} per class)")
        print(f"  per class  {per_class}")
    if "cas" in metrics:
        print(f"  CAS {metrics['cas']:.2%} (a classifier trained {metrics['cas_epochs']} epochs on the samples and "
              "their classes, tested on the test split)")
    print(f"Wrote {', '.join(map(str, written))}")
    return 0


def _summary_lines(metrics: dict) -> list[str]:
    """Readable lines for the figures in a dict of :func:`ganlib.metrics.evaluate_images` (those present)."""
    m = metrics
    lines = []
    if "fcd" in m:
        lines.append(f"FCD {m['fcd']:.3f}   classifier score {m['classifier_score']:.3f}   "
                     f"classes covered {m['classes_covered']}/10   KL to uniform {m['kl_to_uniform']:.4f} nats")
    if "precision" in m:
        lines.append(f"precision {m['precision']:.3f}   recall {m['recall']:.3f}   (k = {m['pr_k']}; fidelity, "
                     "diversity; higher is better)")
    if "density" in m:
        lines.append(f"density {m['density']:.3f}   coverage {m['coverage']:.3f}   (k = {m['dc_k']}; density is "
                     "about 1 for real images)")
    if "kid" in m:
        lines.append(f"KID {m['kid']:.4f} +- {m['kid_std']:.4f}   ({m['kid_subsets']} subsets of "
                     f"{m['kid_subset_size']}; about 0 for real images)")
    if "memorised_share" in m:
        verdict = "FLAGGED: samples sit closer to training images than new data does" if m["memorisation_flagged"] \
            else "not flagged"
        lines.append(f"memorisation: {m['memorised_share']:.1%} of {m['memorisation_samples']} samples are closer to "
                     f"a training image than 99% of test images are (about 1% for new images; flagged above 5%): "
                     f"{verdict}")
        lines.append(f"  median nearest-training distance, samples / test images: {m['nn_median_ratio']:.2f} in "
                     f"pixels, {m['nn_median_ratio_features']:.2f} in features ({m['memorised_share_features']:.1%} "
                     "below the 1st percentile in features)")
    if "timings" in m:
        lines.append("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in m["timings"].items())
                     + (f"; total {m['seconds']:.1f}" if "seconds" in m else ""))
    return lines


def _export(args: argparse.Namespace) -> int:
    from ganlib.export import export_run

    saved_model = False if args.no_saved_model else (args.saved_model or True)
    info = export_run(args.run_dir, args.out, saved_model=saved_model)
    print(f"{info['checkpoint']} (epoch {info['epoch']}): wrote {info['path']}"
          + (f" and {info['saved_model']}" if info["saved_model"] else ""))
    print(f"  keras.models.load_model({info['path']!r})({info['inputs']}): images [N, 28, 28, 1] in [-1, 1] "
          f"from z [N, {info['latent_dim']}]")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    import json

    from ganlib.doctor import diagnose

    try:
        report = diagnose(args.run_dir, samples=args.samples, data_dir=args.data_dir, seed=args.seed)
    except RunDirError as err:  # the run changed since the check
        raise RunReadError(str(err)) from err
    print(json.dumps(report.to_dict(), indent=2) if args.json else report)
    return report.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    The flags are checked (:func:`check_output` for every output path; for ``train``, the run directory's
    lock and ``config.json``) before TensorFlow is imported (:func:`import_tensorflow`) and before any model
    is loaded. 0 on success; 1 when a file or resource is missing or cannot be read or written
    (:class:`ganlib.errors.DataError`, a missing, truncated or corrupt IDX file included, ``OSError``,
    :class:`ganlib.errors.StorageError`), when the run directory is being trained by another process
    (:class:`ganlib.errors.RunLockedError`), or on another ``RuntimeError``; 2 with one line naming the
    argument for wrong arguments or any other ``ValueError`` (:class:`ganlib.errors.RunDirError` included;
    argparse exits itself); 3 when training diverged
    (:class:`ganlib.errors.DivergenceError`); 4 when ``doctor`` finds a serious problem (1 when it cannot read
    the run, :class:`ganlib.errors.RunReadError`); 130 when interrupted. ``--debug`` re-raises instead, with the
    traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)

    try:
        args.check(args)
        if args.needs_tf:
            import_tensorflow(debug=args.debug)
        return args.handler(args)
    except DivergenceError as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 3
    except (DataError, OSError, RuntimeError) as err:  # DataError before ValueError, its base class
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 1
    except ValueError as err:
        if args.debug:
            raise
        args.subparser.error(with_flags(str(err)) if args.command == "train" else str(err))  # exits with 2
    except TrainingInterrupted as err:  # a checkpoint was saved where training stopped
        print(f"\n{err}", file=sys.stderr)
        return 128 + err.signum
    except KeyboardInterrupt:
        print("\nInterrupted. Run the same command again to resume from the last checkpoint.", file=sys.stderr)
        return 130
    return 2


def main_entry() -> None:
    """Console-script entry point (``ganlib ...``): like ``python -m ganlib``."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
