"""Import-only stub (see tokenizers/__init__.py)."""
from ._stub import module_getattr

__getattr__ = module_getattr("tokenizers.pre_tokenizers")
