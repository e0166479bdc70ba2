#!/usr/bin/python3
"""Self-check of the bundles cogvlm-tiny-preprocess, cogvlm-tiny, cogvlm-tiny-text, e2e-tiny and e2e-tiny-b with the upstream
code (no Java involved):

  * format (check_bundles.check_format): order / aliases / io names consistent;
  * sufficiency: the models are rebuilt from config.json alone (CogVLM2: v2aref.cogvlm.build_from_config; K4 UNet:
    its constructor on the config keys + the processor widths of config "v2a4j"; AutoencoderKL / PNDMScheduler:
    from_config), weights.safetensors is loaded with strict=True, the upstream calls are re-run on the io inputs
    (e2e: with the recorded Griffin-Lim init phases injected instead of torch.rand) and every io output AND every
    stored activation must be bit-identical.

Usage: /usr/bin/python3 reference-tests/check_cogvlm_e2e.py [--bundles DIR (default: the bundles/ beside this script)] [names...]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dump_cogvlm  # noqa: E402  (sets up the reference environment)
import dump_e2e  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from check_bundles import build_k4_unet, check_format  # noqa: E402
from v2aref import cogvlm  # noqa: E402
from v2aref.bundle import load_bundle  # noqa: E402
from v2aref.record import TensorStore  # noqa: E402

NAMES = ["cogvlm-tiny-preprocess", "cogvlm-tiny", "cogvlm-tiny-text", "e2e-tiny", "e2e-tiny-b"]


def _compare(expected, got, what):
    errs = []
    for name, t in expected.items():
        if name not in got:
            errs.append(f"{what} {name}: not produced by the re-run")
        elif got[name].dtype != t.dtype or got[name].shape != t.shape or not torch.equal(got[name], t):
            errs.append(f"{what} {name}: differs")
    return errs


def _acts(store):
    return {n: store.get(n) for n in store.order}


def _complex(t):
    return torch.view_as_complex(t.contiguous())


def check_preprocess(cfg, w, io, acts):
    ns = cogvlm.install()
    fake_self = type("S", (), {})()
    fake_self.config = type("C", (), {"vision_config": cfg["vision_config"], "template_version": "base"})()
    got = {}
    for key in sorted({k.split(".")[0] for k in io}):
        out = ns.modeling.CogVLMVideoForCausalLM.build_conversation_input_ids(
            fake_self, cogvlm.FakeTokenizer({"": []}), query="", images=[io[f"{key}.video"]], history=[],
            template_version="base")
        got[f"{key}.frames"] = out["images"][0]
    return _compare({k: v for k, v in io.items() if k.endswith(".frames")}, got, "io")


def _cog_from_bundle(cfg, w, prefix=""):
    model = cogvlm.build_from_config(cfg)
    sd = {k[len(prefix):]: v for k, v in w.items() if k.startswith(prefix)}
    model.load_state_dict(sd, strict=True)
    return model


def check_video(cfg, w, io, acts):
    model = _cog_from_bundle(cfg, w)
    tok = cogvlm.FakeTokenizer({"": []}, bos=cfg["bos_token_id"], eos=cfg["eos_token_id"], pad=cfg["pad_token_id"])
    pipe = dump_cogvlm._pipeline(model, tok)
    store = TensorStore()
    ns = cogvlm.install()
    emb = dump_cogvlm._run_and_record(model, pipe, lambda p: p.extract_video_embedding(io["video"]), store, ns)
    return _compare({"video_embedding": io["video_embedding"]}, {"video_embedding": emb}, "io") + \
        _compare(acts, _acts(store), "activation")


def check_text(cfg, w, io, acts):
    model = _cog_from_bundle(cfg, w)
    tok = cogvlm.FakeTokenizer({"text": io["text_ids"].tolist()}, bos=cfg["bos_token_id"], eos=cfg["eos_token_id"],
                               pad=cfg["pad_token_id"])
    pipe = dump_cogvlm._pipeline(model, tok)
    store = TensorStore()
    ns = cogvlm.install()
    emb = dump_cogvlm._run_and_record(model, pipe, lambda p: p.extract_text_embedding("text"), store, ns)
    return _compare({"text_embedding": io["text_embedding"]}, {"text_embedding": emb}, "io") + \
        _compare(acts, _acts(store), "activation")


def check_e2e(name, cfg, w, io, acts, manifest):
    from diffusers import AutoencoderKL, PNDMScheduler

    cog = _cog_from_bundle(cfg["cogvlm"], w, "multimodal.")
    unet = build_k4_unet(cfg["unet"])
    unet.load_state_dict({k[5:]: t for k, t in w.items() if k.startswith("unet.")}, strict=True)
    vae = AutoencoderKL.from_config(cfg["vae"]).float().eval()
    vae.load_state_dict({k[4:]: t for k, t in w.items() if k.startswith("vae.")}, strict=True)
    sched = PNDMScheduler.from_config(cfg["scheduler"])
    store, rand_store = TensorStore(), TensorStore()
    r = dump_e2e.run(cog, unet, vae, sched, io["video"], io["latents"], store, rand_store, dump_e2e.CASES[name],
                     init_phase=_complex(io["griffinlim.init_phase"]))
    got = {"image": r.image_u8, "pcm_target": r.pcm_target, "timesteps": r.timesteps}
    errs = _compare({k: io[k] for k in got}, got, "io") + _compare(acts, _acts(store), "activation")
    if r.noise != manifest.get("reference_noise"):
        errs.append(f"reference_noise {r.noise} != manifest {manifest.get('reference_noise')}")
    return errs


CHECKS = {"cogvlm-tiny-preprocess": check_preprocess, "cogvlm-tiny": check_video, "cogvlm-tiny-text": check_text}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundles", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "bundles"))
    ap.add_argument("names", nargs="*", default=NAMES)
    a = ap.parse_args()
    bad = 0
    for name in a.names:
        path = os.path.join(a.bundles, name)
        errs = check_format(path)
        cfg, manifest, w, io, acts = load_bundle(path)
        with torch.no_grad():
            if name in dump_e2e.CASES:
                errs += check_e2e(name, cfg, w, io, acts, manifest)
            else:
                errs += CHECKS[name](cfg, w, io, acts)
        print(("OK      " if not errs else "FAILED  ") + name + f" ({len(acts)} activations, {len(io)} io)")
        for e in errs[:20]:
            print("        " + e)
        bad += bool(errs)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
