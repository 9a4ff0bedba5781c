"""GAN samples as training data: a classifier on N labelled images, alone and with a conditional GAN's samples.

For N in ``--sizes`` (100 and 1,000) and each seed: take a class-balanced subset of N MNIST training
images (the first N / 10 of each class), then

* ``real``: train :func:`ganlib.metrics.classification_accuracy_score`'s classifier on the N images;
* ``real + GAN``: train a conditional GAN (the ``dcgan`` preset with ``conditional=True``) on the same N
  labelled images only, for ``--gan-steps`` generator steps, draw ``--gan-samples`` samples
  (an equal number per class), and train the classifier on the N real images plus those;
* ``GAN only``: the classifier on the samples alone (the CAS of that generator, Ravuri & Vinyals 2019).

Every classifier is trained for the same number of updates (``--updates``, of batch 128; the
epochs follow from the training-set size) and tested on the 10,000 test images. A GAN trained on the
subset adds no information beyond it, so this measures whether its interpolations act as a useful
augmentation (Antoniou et al. 2017, https://arxiv.org/abs/1711.04340, report gains at small N).

``--cas-reference``, instead: the CAS of real data, the figure a generator's CAS is read against: the same
classifier trained with CAS's own settings (:data:`ganlib.metrics.CAS_EPOCHS` epochs, as ``evaluate --cas``)
on the first 10,000 training images, the number of samples ``evaluate`` draws.

Usage::

    python -m benchmarks.experiments.gan_augmentation --sizes 100 1000 --seeds 0 1 2 --json
    python -m benchmarks.experiments.gan_augmentation --cas-reference --seeds 0 --json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

from benchmarks.common import append_rows, load_average, parent_parser

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

EXPERIMENT = "gan_augmentation"


def balanced_subset(labels, size: int):
    """Indices of the first ``size // 10`` images of each class, in data order."""
    import numpy as np

    per_class = size // 10
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(10)]))


def train_gan(images, labels, *, seed: int, steps: int):
    """A conditional dcgan trained on ``(images, labels)`` for ``steps`` generator steps."""
    from ganlib.config import get_config
    from ganlib.data import make_pipeline
    from ganlib.train.state import build_gan

    config = get_config("dcgan", conditional=True, seed=seed, batch_size=min(64, len(images)))
    gan = build_gan(config)
    step = gan.train_step(jit_compile=True)
    done, epoch = 0, 0
    while done < steps:
        for batch in make_pipeline(images, config.batch_size, seed=seed, epoch=epoch, labels=labels):
            step(batch["real"], labels=batch["labels"])
            done += 1
            if done == steps:
                break
        epoch += 1
    return gan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     parents=[parent_parser(EXPERIMENT, seed=False)])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--gan-steps", type=int, default=1500, help="generator steps of each conditional GAN")
    parser.add_argument("--gan-samples", type=int, default=5000, help="GAN samples added to the real images")
    parser.add_argument("--updates", type=int, default=400, help="classifier updates (batch 128) of every classifier")
    parser.add_argument("--cas-reference", action="store_true",
                        help="only the CAS of 10,000 real training images, with CAS's own epochs")
    args = parser.parse_args(argv)

    import numpy as np

    from ganlib.data import load_dataset
    from ganlib.metrics import classification_accuracy_score

    train = load_dataset("mnist", "train", data_dir=args.data_dir)
    test = load_dataset("mnist", "test", data_dir=args.data_dir)
    test_labels = test.labels.astype(np.int64)

    def classify(images, labels, seed):
        epochs = max(1, math.ceil(args.updates / math.ceil(len(images) / 128)))
        return classification_accuracy_score(images, labels, test.images, test_labels, epochs=epochs, seed=seed)

    if args.cas_reference:
        for seed in args.seeds:
            score = classification_accuracy_score(train.images[:10_000], train.labels[:10_000].astype(np.int64),
                                                  test.images, test_labels, seed=seed)
            row = {"size": 10_000, "training_set": "real (CAS reference, CAS's epochs)", "seed": seed,
                   "test_accuracy": round(score["cas"], 4), "train_images": 10_000,
                   "classifier_epochs": score["epochs"], "classifier_updates": score["epochs"] * math.ceil(10_000 / 128),
                   "classifier_seconds": score["seconds"], "load": load_average(),
                   "config": {"subset": "first 10,000 training images"}}
            print(json.dumps(row), flush=True)
            if args.json:
                append_rows(args.json, [row], experiment=EXPERIMENT)
        return 0
    for seed in args.seeds:
        for size in args.sizes:
            index = balanced_subset(train.labels, size)
            images, labels = train.images[index], train.labels[index].astype(np.int64)
            start = time.perf_counter()
            gan = train_gan(images, labels, seed=seed, steps=args.gan_steps)
            gan_seconds = time.perf_counter() - start
            samples, sample_labels = gan.evaluation_samples(args.gan_samples, seed=20_000 + seed)
            sample_labels = sample_labels.astype(np.int64)
            sets = {
                "real": (images, labels),
                "real + GAN": (np.concatenate([images, samples]), np.concatenate([labels, sample_labels])),
                "GAN only": (samples, sample_labels),
            }
            for kind, (x, y) in sets.items():
                score = classify(x, y, seed)
                row = {"size": size, "training_set": kind, "seed": seed, "test_accuracy": round(score["cas"], 4),
                       "train_images": len(x), "classifier_epochs": score["epochs"],
                       "classifier_updates": score["epochs"] * math.ceil(len(x) / 128),
                       "gan_steps": args.gan_steps, "gan_samples": len(samples), "gan_seconds": round(gan_seconds, 1),
                       "classifier_seconds": score["seconds"], "load": load_average(),
                       "config": {"preset": "dcgan", "conditional": True, "seed": seed, "subset": "first N/10 per class"}}
                print(json.dumps(row), flush=True)
                if args.json:
                    append_rows(args.json, [row], experiment=EXPERIMENT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
