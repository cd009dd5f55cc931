#!/usr/bin/env python3
"""Optional check that real TensorBoard reads psy's event files.

Usage: scripts/check_tensorboard_events.py DIR
  DIR: a run's TensorBoard folder (runs/<name>/tensorboard, written with train.tensorboard: true)
       or the run folder itself.

Loads DIR with TensorBoard's own EventAccumulator (all event files in the folder, as TensorBoard
does) and prints every scalar tag with its number of points and its first and last (step, value).
Exits 1 when TensorBoard finds no scalars, 2 when the tensorboard Python package is missing.

Needs the `tensorboard` Python package (pip install tensorboard); psy itself does not, and its
own tests read the files with a reader of their own (tests/io/tensorboard_test_reader.h).
"""
import os
import sys


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    folder = argv[1]
    if os.path.isdir(os.path.join(folder, "tensorboard")):
        folder = os.path.join(folder, "tensorboard")
    if not os.path.isdir(folder):
        print(f"check_tensorboard_events: {folder}: not a folder", file=sys.stderr)
        return 2
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        print("check_tensorboard_events: the tensorboard Python package is not installed "
              "(pip install tensorboard); this check is optional", file=sys.stderr)
        return 2
    acc = EventAccumulator(folder, size_guidance={"scalars": 0})  # 0 = keep every point
    acc.Reload()
    tags = acc.Tags().get("scalars", [])
    files = sorted(f for f in os.listdir(folder) if "tfevents" in f)
    print(f"{folder}: {len(files)} event file(s)")
    for tag in sorted(tags):
        points = acc.Scalars(tag)
        first, last = points[0], points[-1]
        print(f"{tag:24s} {len(points):6d} points, step {first.step}: {first.value:.6g} ... "
              f"step {last.step}: {last.value:.6g}")
    if not tags:
        print("check_tensorboard_events: TensorBoard found no scalars", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
