#!/usr/bin/python3
"""Self-check of the committed PNDM / audio / UNet / VAE bundles with the upstream code (no Java involved):

  * format: every name in manifest.order resolves (directly or through aliases) to a stored tensor, aliases point
    to stored tensors, every stored activation appears in order, manifest.io == io.safetensors names;
  * sufficiency: the model is rebuilt from config.json alone (+ the documented v2a4j keys), weights.safetensors is
    loaded with strict=True, the upstream forward is re-run on io inputs WITHOUT recording, and its output must be
    bit-identical to io (proves the bundle holds everything needed and that recording changed nothing).

Usage: /usr/bin/python3 reference-tests/check_bundles.py [--bundles reference-tests/bundles] [names...]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from v2aref import env  # noqa: E402

env.setup()

import torch  # noqa: E402
from torch import nn  # noqa: E402

from v2aref.bundle import load_bundle  # noqa: E402


def check_format(path):
    import json
    from v2aref import st
    with open(os.path.join(path, "manifest.json")) as f:
        m = json.load(f)
    acts = st.load_file(os.path.join(path, "activations.safetensors"))
    io = st.load_file(os.path.join(path, "io.safetensors"))
    errs = []
    for a, c in m["aliases"].items():
        if c not in acts:
            errs.append(f"alias {a} -> {c}: target not stored")
        if a in acts:
            errs.append(f"alias {a} is also stored")
    order = set(m["order"])
    for n in m["order"]:
        if n not in acts and n not in m["aliases"]:
            errs.append(f"order name {n} not stored")
    for n in acts:
        if n not in order:
            errs.append(f"stored {n} missing from order")
    if len(order) != len(m["order"]):
        errs.append("duplicate names in order")
    if sorted(m["io"]) != sorted(io):
        errs.append("manifest.io != io.safetensors names")
    return errs


def build_k4_unet(cfg):
    """The K4 UNet subclass from a bundle's unet config, with the tiny-width processor layers of its "v2a4j" section
    (weights not loaded)."""
    from kandinsky4_video2audio.model.unet import UNet2DConditionModel as K4UNet
    from kandinsky4_video2audio.model.attention_processors import VideoAttnProcessor2_0, PromptAttnProcessor2_0
    import inspect
    keys = [k for k in inspect.signature(K4UNet.__init__).parameters if k != "self"]
    unet = K4UNet(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in cfg.items() if k in keys})
    v = cfg["v2a4j"]
    for name, proc in unet.attn_processors.items():
        if isinstance(proc, VideoAttnProcessor2_0):
            c = proc.video_q.in_features
            proc.video_k = nn.Linear(v["video_embed_dim"], c)
            proc.video_v = nn.Linear(v["video_embed_dim"], c)
        elif isinstance(proc, PromptAttnProcessor2_0):
            proc.text_projection = nn.Linear(v["text_embed_dim"], v["text_projection_out"])
    return unet.float().eval()


def rerun_unet(cfg, w, io, sizes):
    unet = build_k4_unet(cfg)
    unet.load_state_dict(w, strict=True)
    with torch.no_grad():
        out = unet(io["sample"], io["timestep"], encoder_hidden_states=io["encoder_hidden_states"],
                   cross_attention_kwargs={"image_embeds": io["image_embeds"]}, return_dict=False)[0]
    return {"out": out}


def build_vae(cfg):
    """diffusers AutoencoderKL from a bundle's vae config (weights not loaded), fp32, eval."""
    import inspect
    from diffusers import AutoencoderKL
    keys = [k for k in inspect.signature(AutoencoderKL.__init__).parameters if k != "self"]
    vae = AutoencoderKL(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in cfg.items() if k in keys})
    return vae.float().eval()


def rerun_vae(cfg, w, io, sizes):
    import numpy as np
    from diffusers.image_processor import VaeImageProcessor
    vae = build_vae(cfg)
    vae.load_state_dict(w, strict=True)
    with torch.no_grad():
        z = io["latents"] / vae.config.scaling_factor
        sample = vae.decode(z, return_dict=False)[0]
    ip = VaeImageProcessor(vae_scale_factor=8)
    img = np.stack([np.array(im) for im in ip.postprocess(sample, output_type="pil", do_denormalize=[True])])
    return {"z": z, "sample": sample, "image": torch.from_numpy(img)}


def rerun_pndm(cfg, w, io, sizes):
    from diffusers import PNDMScheduler
    s = PNDMScheduler.from_config(cfg)
    s.set_timesteps(sizes["num_inference_steps"])
    assert torch.equal(s.timesteps, io["timesteps"])
    x = io["init_sample"]
    outs = []
    for i, t in enumerate(s.timesteps):
        x = s.step(io["model_output"][i], t, x, return_dict=False)[0]
        outs.append(x)
    return {"prev_sample": torch.stack(outs), "alphas_cumprod": s.alphas_cumprod}


def rerun_audio(cfg, w, io, sizes):
    """Re-run the riffusion path on io.image, injecting io.griffinlim.init_phase in place of torch.rand."""
    import numpy as np
    from PIL import Image
    import dump_audio as da
    from v2aref.record import TensorStore
    params = da.SpectrogramParams(**cfg["spectrogram_params"])
    conv = da.SpectrogramImageConverter(params=params, device="cpu")
    conv.converter.inverse_mel_scaler = da.LstsqInverseMelScale(conv.converter.inverse_mel_scaler, TensorStore(),
                                                                False)
    phase = torch.view_as_complex(io["griffinlim.init_phase"].contiguous())
    orig_rand = torch.rand

    def fake_rand(*a, **k):
        assert k.get("dtype") == torch.complex64 and tuple(a[0]) == tuple(phase.shape)
        return phase.clone()

    torch.rand = fake_rand
    try:
        seg = conv.audio_from_spectrogram_image(Image.fromarray(io["image"].numpy(), mode="RGB"))
    finally:
        torch.rand = orig_rand
    filt = torch.from_numpy(np.array(seg.get_array_of_samples(), dtype=np.int16))
    seg = da.k4_utils.set_to_target_level(seg, -30.0)
    target = torch.from_numpy(np.array(seg.get_array_of_samples(), dtype=np.int16))
    return {"pcm_filtered": filt, "pcm_target": target}


RERUN = {"unet": rerun_unet, "vae": rerun_vae, "scheduler": rerun_pndm, "audio": rerun_audio}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundles", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "bundles"))
    ap.add_argument("names", nargs="*",
                    default=["pndm", "pndm-prk", "audio-tiny", "audio-riffusion", "unet-tiny", "unet-tiny-oddwidth",
                             "vae-tiny"])
    a = ap.parse_args()
    bad = 0
    for name in a.names:
        path = os.path.join(a.bundles, name)
        errs = check_format(path)
        cfg, m, w, io, acts = load_bundle(path)
        kind = m["component"].split("/")[0]
        if kind in RERUN:
            for k, v in RERUN[kind](cfg, w, io, m["sizes"]).items():
                if not (v.dtype == io[k].dtype and v.shape == io[k].shape and torch.equal(v, io[k])):
                    errs.append(f"rerun {k}: not bit-identical (max diff "
                                f"{(v.double() - io[k].double()).abs().max().item():.3g})")
        print(("OK      " if not errs else "FAILED  ") + name + ("" if kind in RERUN else " (format only)"))
        for e in errs[:20]:
            print("        " + e)
        bad += bool(errs)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
