"""Import-only stub for `triton.language`: annotations such as `tl.constexpr` resolve; nothing runs."""


class constexpr:  # noqa: N801 (upstream name)
    pass


class _Unavailable:
    def __init__(self, name):
        self._name = name

    def __call__(self, *a, **k):
        raise RuntimeError(f"v2aref: triton.language.{self._name} called, but triton is an import-only stub")

    def __getattr__(self, item):
        return _Unavailable(self._name + "." + item)


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _Unavailable(name)
