"""Reference environment for running the ORIGINAL upstream Python code on Debian 12 / torch 1.13 (CPU).

Call `setup()` before importing any upstream module (diffusers, transformers, kandinsky4_video2audio, ...).
It
  * puts the upstream checkouts of V2A_REFERENCE_SRC (required) on sys.path:
      k4/kandinsky4_video2audio   -> `import kandinsky4_video2audio.model.unet`, `kandinsky4_video2audio.riffusion...`
      diffusers/src, hfhub/src, einops, transformers/src, pytorchvideo
      cogvlm/model/model_cogvlm2_video -> `import model_cogvlm2_video.modeling_cogvlm`
  * installs the import shims of v2aref/shims (safetensors backed by v2aref.st; import-only stubs for tokenizers
    and triton) and a temporary directory of *.dist-info/METADATA files so that importlib.metadata version probes
    find huggingface_hub / safetensors / tokenizers,
  * installs torch.nn.functional.scaled_dot_product_attention (absent before torch 2.0) BEFORE diffusers is imported,
  * under torch >= 2 with a torchvision built for torch 1.x (Debian's 0.14, seen through a --system-site-packages
    venv), makes `torchvision` a namespace over that installation whose __init__ is not run: its compiled extensions
    abort the process when loaded into torch 2 and its ops/models modules import torch-1 internals; the pure-Python
    transforms that the CogVLM2 preprocessing uses (Lambda, Compose, NormalizeVideo, CenterCropVideo) import as they
    are (_torchvision_for_torch2),
  * fixes threads (1 by default: single-threaded CPU reductions are bit-reproducible) and seeds.
None of these adaptations changes the math of the upstream code (reference-tests/README.md lists them).
"""
import atexit
import math
import os
import platform
import shutil
import sys
import tempfile

import torch

# Pinned upstream versions (the checkouts carry no git metadata; these are the revisions that were fetched).
UPSTREAM = {
    "ai-forever/Kandinsky-4 (kandinsky4_video2audio)": "7506103",
    "huggingface/diffusers": "v0.31.0",
    "huggingface/huggingface_hub": "v0.26.2",
    "arogozhnikov/einops": "v0.8.0",
    "transformers (F4biian/transformers-v4.47.1-and-internal-states fork)": "f0e640adf (~4.46)",
    "CogVLM2-video remote code (yongchenglai/llm-research model/model_cogvlm2_video)": "977ffb4",
    "facebookresearch/pytorchvideo": "f3142bb (HEAD)",
}

# relative to V2A_REFERENCE_SRC
_SRC_DIRS = ["k4", "diffusers/src", "hfhub/src", "einops", "transformers/src", "pytorchvideo", "cogvlm/model"]

# fake distribution metadata for version probes: (distribution name, version)
_DIST_INFO = [
    ("huggingface_hub", "0.26.2"),  # real source tree at that tag, only the metadata is missing
    ("safetensors", "0.4.5+v2arefshim"),  # v2aref/shims/safetensors
    ("tokenizers", "0.20.3+v2arefstub"),  # v2aref/shims/tokenizers (import-only)
]

_done = False
_meta_dir = None


def src_root():
    root = os.environ.get("V2A_REFERENCE_SRC")
    if not root:
        raise SystemExit("set V2A_REFERENCE_SRC to the folder with the upstream checkouts (k4/, diffusers/src, ...; "
                         "see reference-tests/README.md, 'Reference environment')")
    return root


def _sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """torch-2 `scaled_dot_product_attention` semantics in plain matmul/softmax (fp32 on CPU).

    scale defaults to 1/sqrt(E); attn_mask may be bool (True = take part) or additive; is_causal applies a
    lower-triangular mask (top-left aligned, as torch 2 does). The query is scaled before the matmul, which is
    bit-identical (0.0 difference, checked for E = 12, 40, 80) to torch 1.13's private
    F._scaled_dot_product_attention kernel."""
    L, S = query.size(-2), key.size(-2)
    scale_factor = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
    attn = torch.matmul(query * scale_factor, key.transpose(-2, -1))
    if is_causal:
        if attn_mask is not None:
            raise ValueError("v2aref sdpa shim: attn_mask and is_causal both set")
        causal = torch.ones(L, S, dtype=torch.bool, device=query.device).tril(diagonal=0)
        attn = attn.masked_fill(~causal, float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            attn = attn.masked_fill(~attn_mask, float("-inf"))
        else:
            attn = attn + attn_mask
    attn = torch.softmax(attn, dim=-1)
    if dropout_p > 0.0:
        attn = torch.nn.functional.dropout(attn, p=dropout_p, training=True)
    return torch.matmul(attn, value)


def _torchvision_for_torch2():
    """See the module docstring. Returns a note for the manifest, or None when nothing was changed."""
    import importlib.util
    import re
    if int(torch.__version__.split(".")[0]) < 2 or "torchvision" in sys.modules:
        return None
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return None
    tv_dir = list(spec.submodule_search_locations)[0]
    try:
        with open(os.path.join(tv_dir, "version.py")) as f:
            m = re.search(r"__version__\s*=\s*['\"]([0-9]+)\.([0-9]+)", f.read())
    except OSError:
        return None
    if m is None or (int(m.group(1)), int(m.group(2))) >= (0, 15):  # 0.15 is the first torchvision for torch 2
        return None
    pkg = importlib.util.module_from_spec(spec)  # the package object, its __init__ not executed
    pkg.__version__ = f"{m.group(1)}.{m.group(2)} (v2aref: __init__ and compiled extensions not loaded)"
    sys.modules["torchvision"] = pkg
    return (f"torchvision {m.group(1)}.{m.group(2)} is built for torch 1.x: imported without its __init__ "
            "and compiled extensions (pure-Python transforms only)")


TORCHVISION_NOTE = None


def _write_dist_info(root):
    for name, version in _DIST_INFO:
        d = os.path.join(root, f"{name}-{version}.dist-info")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "METADATA"), "w") as f:
            f.write(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        with open(os.path.join(d, "top_level.txt"), "w") as f:
            f.write(name + "\n")


def setup(threads=1, quiet=True):
    """Idempotent. Must run before any upstream import."""
    global _done, _meta_dir, TORCHVISION_NOTE
    if _done:
        return
    root = src_root()
    missing = [d for d in _SRC_DIRS if not os.path.isdir(os.path.join(root, d))]
    if missing:
        raise SystemExit(f"V2A_REFERENCE_SRC={root}: missing upstream checkout(s): {', '.join(missing)} "
                         f"(see reference-tests/README.md, 'Reference environment')")
    if "diffusers" in sys.modules or "transformers" in sys.modules:
        raise RuntimeError("v2aref.env.setup() must run before diffusers/transformers are imported")

    here = os.path.dirname(os.path.abspath(__file__))
    pkg_parent = os.path.dirname(here)  # reference-tests/, so `import v2aref` works inside the shims
    _meta_dir = tempfile.mkdtemp(prefix="v2aref-distinfo-")
    atexit.register(shutil.rmtree, _meta_dir, True)
    _write_dist_info(_meta_dir)
    paths = [pkg_parent, os.path.join(here, "shims"), _meta_dir] + [os.path.join(root, d) for d in _SRC_DIRS]
    for p in reversed(paths):
        if p not in sys.path:
            sys.path.insert(0, p)

    # 1. SDPA (torch >= 2.0 API) for diffusers' AttnProcessor2_0 and K4's processors
    import torch.nn.functional as F
    if not hasattr(F, "scaled_dot_product_attention"):
        F.scaled_dot_product_attention = _sdpa

    TORCHVISION_NOTE = _torchvision_for_torch2()

    # 2. determinism
    torch.set_num_threads(threads)
    torch.manual_seed(0)

    if quiet:
        os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import warnings
        warnings.filterwarnings("ignore")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _done = True


def install_import_stubs(spec):
    """Import-only stub modules, e.g. {"moviepy.editor": ["AudioFileClip"], "IPython.display": ["display"]}:
    lets an upstream module that imports unavailable packages at top level (K4 utils.py: moviepy, IPython) be
    imported so that its pure functions can be called. Calling a stubbed name raises."""
    import types
    for modname, names in spec.items():
        parts = modname.split(".")
        for i in range(1, len(parts) + 1):
            sub = ".".join(parts[:i])
            if sub not in sys.modules:
                sys.modules[sub] = types.ModuleType(sub)
                sys.modules[sub].__v2aref_stub__ = True
                if i > 1:
                    setattr(sys.modules[".".join(parts[:i - 1])], parts[i - 1], sys.modules[sub])
        mod = sys.modules[modname]
        if not getattr(mod, "__v2aref_stub__", False):
            continue  # the real package is installed
        for n in names:
            def _fail(*a, _n=f"{modname}.{n}", **k):
                raise RuntimeError(f"v2aref: {_n} is an import-only stub")
            setattr(mod, n, _fail)


K4_UTILS_STUBS = {"moviepy.editor": ["AudioFileClip", "ImageSequenceClip"],
                  "IPython.display": ["Video", "clear_output", "display"]}


def seed_all(seed):
    import random
    import numpy as np
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def upstream_versions():
    return dict(UPSTREAM)


def runtime_versions():
    import numpy
    out = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "torch_num_threads": torch.get_num_threads(),
        "platform": platform.machine(),
        "sdpa": "v2aref.env._sdpa shim" if getattr(torch.nn.functional, "scaled_dot_product_attention", None) is _sdpa
        else "torch native",
    }
    for mod in ("torchaudio", "scipy", "PIL"):
        try:
            m = __import__(mod)
            out[mod if mod != "PIL" else "pillow"] = m.__version__
        except Exception:  # noqa: BLE001
            pass
    try:
        import importlib.metadata as md
        out["pydub"] = md.version("pydub")
    except Exception:  # noqa: BLE001
        pass
    return out
