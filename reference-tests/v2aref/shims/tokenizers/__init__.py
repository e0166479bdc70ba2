"""Import-only stub for `tokenizers` (transformers 4.46 imports it at start-up; no forward pass we dump uses it).
Every name resolves to a placeholder class whose construction raises ImportError."""
from . import decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: F401
from ._stub import module_getattr

__version__ = "0.20.3+v2arefstub"
__getattr__ = module_getattr("tokenizers")
