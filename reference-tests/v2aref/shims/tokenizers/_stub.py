"""Placeholder classes for the import-only `tokenizers` stub."""


def placeholder(qualname):
    def _fail(*a, **k):
        raise ImportError(f"v2aref: 'tokenizers' is an import-only stub; {qualname} is not available")

    return type(qualname.rsplit(".", 1)[-1], (), {"__init__": _fail, "__module__": qualname.rsplit(".", 1)[0],
                                                   "from_file": staticmethod(_fail),
                                                   "from_str": staticmethod(_fail)})


def module_getattr(modname):
    cache = {}

    def __getattr__(name):  # noqa: N807
        if name.startswith("__"):
            raise AttributeError(name)
        if name not in cache:
            cache[name] = placeholder(f"{modname}.{name}")
        return cache[name]

    return __getattr__
