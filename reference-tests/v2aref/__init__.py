"""v2a4j reference-test tooling: run the ORIGINAL upstream Python code and dump golden tensors.

env     sys.path / torch-1.13 adaptations (call env.setup() before importing upstream code)
st      pure-Python safetensors reader/writer
record  per-module tensor recording by wrapping forwards (+ aliases for bit-identical tensors)
bundle  bundle directory writer/reader
"""
