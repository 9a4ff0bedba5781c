"""Train the evaluation classifier of ganlib.metrics and ship its weights in ganlib/weights/.

The classifier (``ganlib.metrics.build_classifier``) is trained on the TRAINING
split only, with a fixed number of epochs chosen in advance (no early stopping,
no model selection on the test split); the test split is used once, at the end,
to measure the accuracy that is recorded next to the weights:

    ganlib/weights/<dataset>_classifier.weights.h5   the Keras weights (~1.7 MB)
    ganlib/weights/<dataset>_classifier.json         dataset, test accuracy, epochs, seed, command, ...

Usage (from the repository root; ~1-2 min per epoch on 2 CPU cores):

    python scripts/train_classifier.py --dataset mnist --data-dir DIR
    python scripts/train_classifier.py --dataset fashion_mnist --data-dir DIR

The run is seeded (``keras.utils.set_random_seed``: weights, dropout, shuffling).
Multi-threaded CPU kernels may still round differently between runs, so a rerun
can differ from the shipped weights in the last decimal of the accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv: list[str] | None = None) -> int:
    from ganlib.data import DATASETS
    from ganlib.metrics import WEIGHTS_DIR

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--dataset", choices=DATASETS, default="mnist")
    parser.add_argument("--data-dir", default=None, help="offline data directory (default: $GANLIB_DATA_DIR, else tfds)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's initial rate, cosine-decayed to 0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=WEIGHTS_DIR)
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf

    from ganlib.data import load_dataset
    from ganlib.metrics import build_classifier, info_path, weights_path

    keras.utils.set_random_seed(args.seed)
    train = load_dataset(args.dataset, "train", data_dir=args.data_dir)
    test = load_dataset(args.dataset, "test", data_dir=args.data_dir)

    model = build_classifier(name=f"{args.dataset}_classifier")
    steps = args.epochs * int(np.ceil(len(train.images) / args.batch_size))
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(args.learning_rate, steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    t0 = time.perf_counter()
    model.fit(train.images, train.labels, batch_size=args.batch_size, epochs=args.epochs, shuffle=True, verbose=2)
    seconds = time.perf_counter() - t0
    test_loss, test_accuracy = model.evaluate(test.images, test.labels, batch_size=1000, verbose=0)
    print(f"{args.dataset}: test accuracy {test_accuracy:.4f}, test loss {test_loss:.4f} ({seconds:.0f} s training)")

    args.out_dir.mkdir(parents=True, exist_ok=True)
    # Ship the layers' weights only: saving the compiled model would add Adam's moments (2/3 of the file).
    shipped = build_classifier(name=f"{args.dataset}_classifier")
    shipped.set_weights(model.get_weights())
    shipped.save_weights(weights_path(args.dataset, args.out_dir))
    record = {
        "dataset": args.dataset,
        "test_accuracy": round(float(test_accuracy), 4),
        "test_loss": round(float(test_loss), 4),
        "test_images": int(len(test.images)),
        "train_images": int(len(train.images)),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "seed": args.seed,
        "training_seconds": round(seconds, 1),
        "command": "python scripts/train_classifier.py " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__},
    }
    info_path(args.dataset, args.out_dir).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {weights_path(args.dataset, args.out_dir)} and {info_path(args.dataset, args.out_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
